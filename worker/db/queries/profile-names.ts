/** Display names and name search terms of profiles, maintained by the GraphWriter. */
import { nameTerms } from "../../../shared/search-terms";
import { bulk } from "./json-chunks";
import { rowsOf, type Read } from "./reads";

/** The attribute keys a display name is made of (see displayNameOf). */
export const NAME_KEYS = ["firstName", "lastName", "first_name", "last_name", "name", "fullName", "displayName"] as const;

export interface NameFragment {
  dataset: string;
  identityId: number;
  updatedAt: number;
  names: Record<string, unknown>;
}

const NAME_COLUMNS = NAME_KEYS.map((k, i) => `json_extract(f.attributes, '$.${k}') AS n${i}`).join(", ");

function parseNames(results: D1Result<Record<string, unknown>>[]): NameFragment[] {
  return rowsOf<Record<string, unknown>>(results).map((r) => ({
    dataset: r.dataset as string,
    identityId: r.identity_id as number,
    updatedAt: r.updated_at as number,
    names: Object.fromEntries(NAME_KEYS.map((k, i) => [k, r[`n${i}`]]).filter(([, v]) => v !== null && v !== undefined)),
  }));
}

/** Only the name fields of the fragments of `identityIds` (no full attribute trees). */
export function nameFragmentsRead(d1: D1Database, identityIds: readonly number[]): Read<NameFragment[]> {
  return {
    statements: bulk(d1, `SELECT f.dataset, f.identity_id, f.updated_at, ${NAME_COLUMNS} FROM fragments f WHERE f.identity_id IN (SELECT value FROM json_each(?1))`, identityIds),
    parse: parseNames,
  };
}

/** The name fields of every fragment of the profiles that hold any of `refs`. */
export function profileNameFragmentsRead(d1: D1Database, refs: readonly { namespace: string; value: string }[]): Read<NameFragment[]> {
  return {
    statements: bulk(
      d1,
      `SELECT f.dataset, f.identity_id, f.updated_at, ${NAME_COLUMNS}
       FROM identities m JOIN fragments f ON f.identity_id = m.id
       WHERE m.profile_id IN (
         SELECT i.profile_id FROM json_each(?1) j
         JOIN identities i ON i.namespace = json_extract(j.value, '$[0]') AND i.value = json_extract(j.value, '$[1]'))`,
      refs.map((r) => [r.namespace, r.value]),
    ),
    parse: parseNames,
  };
}

/** Sets display names (null: fall back to the primary identity) and rewrites name terms. */
export function profileNameStatements(d1: D1Database, names: readonly [string, string | null][]): D1PreparedStatement[] {
  if (names.length === 0) return [];
  const terms = names.flatMap(([profileId, name]) => (name ? nameTerms(name).map((t) => [t, profileId]) : []));
  return [
    ...bulk(
      d1,
      `UPDATE profiles SET display_name = json_extract(j.value, '$[1]'), search_name = lower(json_extract(j.value, '$[1]'))
       FROM json_each(?1) AS j WHERE profiles.id = json_extract(j.value, '$[0]')`,
      names,
    ),
    ...bulk(d1, `DELETE FROM profile_terms WHERE profile_id IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))`, names),
    ...bulk(
      d1,
      `INSERT OR IGNORE INTO profile_terms (term, profile_id) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)`,
      terms,
    ),
  ];
}

/** Display names and name search terms of profiles, maintained by the GraphWriter. */
import { nameTerms } from "../../../shared/search-terms";
import { bulk } from "./json-chunks";

/** The attribute keys a display name is made of (see displayNameOf). */
export const NAME_KEYS = ["firstName", "lastName", "first_name", "last_name", "name", "fullName", "displayName"] as const;

export interface NameFragment {
  dataset: string;
  identityId: number;
  updatedAt: number;
  names: Record<string, unknown>;
}

/** Only the name fields of the fragments of `identityIds` (no full attribute trees). */
export async function loadNameFragments(d1: D1Database, identityIds: readonly number[]): Promise<NameFragment[]> {
  if (identityIds.length === 0) return [];
  const columns = NAME_KEYS.map((k, i) => `json_extract(attributes, '$.${k}') AS n${i}`).join(", ");
  const batches = await d1.batch<Record<string, unknown>>(
    bulk(d1, `SELECT dataset, identity_id, updated_at, ${columns} FROM fragments WHERE identity_id IN (SELECT value FROM json_each(?1))`, identityIds),
  );
  return batches.flatMap((b) =>
    b.results.map((r) => ({
      dataset: r.dataset as string,
      identityId: r.identity_id as number,
      updatedAt: r.updated_at as number,
      names: Object.fromEntries(NAME_KEYS.map((k, i) => [k, r[`n${i}`]]).filter(([, v]) => v !== null && v !== undefined)),
    })),
  );
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

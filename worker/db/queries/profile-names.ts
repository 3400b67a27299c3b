/** Display names and name search terms of profiles, maintained by the GraphWriter. */
import { nameTerms } from "../../../shared/search-terms";
import { bulk } from "./json-chunks";

/** The attribute keys a display name is made of (see displayNameOf). */
export const NAME_KEYS = [
  "firstName",
  "lastName",
  "first_name",
  "last_name",
  "name",
  "fullName",
  "displayName",
] as const;

/** Sets display names (null: fall back to the primary identity) and rewrites name terms. */
export function profileNameStatements(
  d1: D1Database,
  names: readonly [string, string | null][],
): D1PreparedStatement[] {
  if (names.length === 0) return [];
  const terms = names.flatMap(([profileId, name]) =>
    name ? nameTerms(name).map((t) => [t, profileId]) : [],
  );
  return [
    ...bulk(
      d1,
      `UPDATE profiles SET display_name = json_extract(j.value, '$[1]')
       FROM json_each(?1) AS j WHERE profiles.id = json_extract(j.value, '$[0]')`,
      names,
    ),
    ...bulk(
      d1,
      `DELETE FROM profile_terms WHERE profile_id IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))`,
      names,
    ),
    ...bulk(
      d1,
      `INSERT OR IGNORE INTO profile_terms (term, profile_id) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)`,
      terms,
    ),
  ];
}

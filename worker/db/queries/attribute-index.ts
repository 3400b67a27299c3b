/**
 * The exact-value index of attribute leaves for `attr.<path>=` search (computed values are
 * matched on their fragments instead: see `searchProfiles`). Its key is
 * (path, value, identity_id, dataset) and it has no second index: rows are removed by
 * recomputing the leaves of the fragment they came from (the same json_tree walk that
 * inserted them), so every removal is a key lookup — which is why a fragment's old leaves
 * are removed *before* the fragment is rewritten or deleted.
 */
import { bulk } from "./json-chunks";

/** A json_tree row `t` as an index key: its path and its value as text. */
export const LEAF_PATH = `substr(t.fullkey, 3)`;
export const LEAF_VALUE = `CASE t.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'array' THEN t.value ELSE CAST(t.atom AS TEXT) END`;

/** Leaves of the fragments selected by `fragmentFilter` (a condition on `f`), as index keys. */
export function leavesOf(fragmentSource: string, fragmentFilter: string): string {
  return `SELECT ${LEAF_PATH} AS path, ${LEAF_VALUE} AS value, f.identity_id, f.dataset
          FROM ${fragmentSource}, json_tree(f.attributes) t
          WHERE ${fragmentFilter} AND t.type NOT IN ('object', 'null') AND t.fullkey NOT GLOB '*[[]*'
            AND (t.type != 'text' OR length(t.atom) <= 256)`;
}

const FRAGMENTS_BY_KEY = `json_each(?1) j JOIN fragments f ON f.identity_id = json_extract(j.value, '$[0]') AND f.dataset = json_extract(j.value, '$[1]')`;

/** Index rows of the fragments [identityId, dataset] as they are now (run before rewriting them). */
export function attributeIndexRemoveStatements(
  d1: D1Database,
  keys: readonly [number, string][],
): D1PreparedStatement[] {
  return bulk(
    d1,
    `DELETE FROM attribute_index WHERE (path, value, identity_id, dataset) IN (${leavesOf(FRAGMENTS_BY_KEY, "true")})`,
    keys,
  );
}

/** Index rows of the fragments [identityId, dataset] as written (run after writing them). */
export function attributeIndexAddStatements(
  d1: D1Database,
  keys: readonly [number, string][],
): D1PreparedStatement[] {
  return bulk(
    d1,
    `INSERT OR IGNORE INTO attribute_index (path, value, identity_id, dataset) ${leavesOf(FRAGMENTS_BY_KEY, "true")}`,
    keys,
  );
}

/** Index rows of every fragment of these identities (run before deleting the fragments). */
export function attributeIndexRemoveForIdentities(
  d1: D1Database,
  identityIds: readonly number[],
): D1PreparedStatement[] {
  return bulk(
    d1,
    `DELETE FROM attribute_index WHERE (path, value, identity_id, dataset) IN (${leavesOf("fragments f", "f.identity_id IN (SELECT value FROM json_each(?1))")})`,
    identityIds,
  );
}

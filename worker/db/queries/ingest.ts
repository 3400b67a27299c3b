/** SQL for the ingest write path: suppression and idempotency lookups, fragments, events. */
import { bulk, jsonColumns } from "./json-chunks";
import { rowsOf, type Read } from "./reads";

/** Which of these suppression hashes are on the list. */
export function suppressedRead(d1: D1Database, hashes: readonly string[]): Read<Set<string>> {
  return {
    statements: bulk(d1, `SELECT hash FROM suppressions WHERE hash IN (SELECT value FROM json_each(?1))`, hashes),
    parse: (results) => new Set(rowsOf<{ hash: string }>(results).map((r) => r.hash)),
  };
}

/** Which of these event ids are stored already (idempotency). */
export function existingEventsRead(d1: D1Database, ids: readonly string[]): Read<Set<string>> {
  return {
    statements: bulk(d1, `SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?1))`, ids),
    parse: (results) => new Set(rowsOf<{ id: string }>(results).map((r) => r.id)),
  };
}

export interface StoredFragment {
  dataset: string;
  namespace: string;
  value: string;
  attributes: Record<string, unknown>;
  updatedAt: number;
}

/** Current fragments of `(dataset, identity)` pairs, identities given by namespace and value. */
export function fragmentsRead(d1: D1Database, pairs: readonly { dataset: string; namespace: string; value: string }[]): Read<StoredFragment[]> {
  return {
    statements: bulk(
      d1,
      `SELECT f.dataset, i.namespace, i.value, f.attributes, f.updated_at
       FROM json_each(?1) j
       JOIN identities i ON i.namespace = json_extract(j.value, '$[1]') AND i.value = json_extract(j.value, '$[2]')
       JOIN fragments f ON f.identity_id = i.id AND f.dataset = json_extract(j.value, '$[0]')`,
      pairs.map((p) => [p.dataset, p.namespace, p.value]),
    ),
    parse: (results) =>
      rowsOf<{ dataset: string; namespace: string; value: string; attributes: string; updated_at: number }>(results).map((r) => ({
        dataset: r.dataset,
        namespace: r.namespace,
        value: r.value,
        attributes: JSON.parse(r.attributes) as Record<string, unknown>,
        updatedAt: r.updated_at,
      })),
  };
}

/** Rows: [dataset, identityId, attributes, updatedAt]. Also refreshes the attribute index. */
export function fragmentWriteStatements(d1: D1Database, rows: readonly [string, number, Record<string, unknown>, number][]): D1PreparedStatement[] {
  if (rows.length === 0) return [];
  const keys = rows.map(([dataset, identityId]) => [identityId, dataset]);
  return [
    ...bulk(
      d1,
      `INSERT INTO fragments (dataset, identity_id, attributes, updated_at)
       SELECT ${jsonColumns(4)}
       FROM json_each(?1) WHERE true
       ON CONFLICT(dataset, identity_id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at`,
      rows,
    ),
    ...bulk(
      d1,
      `DELETE FROM attribute_index WHERE (identity_id, dataset) IN (
         SELECT ${jsonColumns(2)} FROM json_each(?1))`,
      keys,
    ),
    // Leaves of the attribute tree (arrays count as leaves), for `attr.<path>=` search.
    ...bulk(
      d1,
      `INSERT OR IGNORE INTO attribute_index (path, value, identity_id, dataset)
       SELECT substr(t.fullkey, 3),
              CASE t.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'array' THEN t.value ELSE CAST(t.atom AS TEXT) END,
              f.identity_id, f.dataset
       FROM json_each(?1) j
       JOIN fragments f ON f.identity_id = json_extract(j.value, '$[0]') AND f.dataset = json_extract(j.value, '$[1]'),
            json_tree(f.attributes) t
       WHERE t.type NOT IN ('object', 'null') AND t.fullkey NOT GLOB '*[[]*'
         AND (t.type != 'text' OR length(t.atom) <= 256)`,
      keys,
    ),
  ];
}

/** Rows: [id, type, at, dataset, identityId, data, receivedAt]; an existing id is left alone. */
export function eventInsertStatements(d1: D1Database, rows: readonly unknown[][]): D1PreparedStatement[] {
  return bulk(
    d1,
    `INSERT OR IGNORE INTO events (id, type, at, dataset, identity_id, data, received_at)
     SELECT ${jsonColumns(7)}
     FROM json_each(?1)`,
    rows,
  );
}

/** SQL for the ingest write path: suppression and idempotency lookups, fragments, events. */
import { COMPUTED_DATASET } from "../../../shared/schemas/computed";
import { attributeIndexAddStatements, attributeIndexRemoveStatements } from "./attribute-index";
import { TOUCHED_PROFILES } from "./graph";
import { bulk, jsonChunks, jsonColumns } from "./json-chunks";
import { REPORTS_ONLY, type Read, rowsOf } from "./reads";
import type { StoredMembership } from "./segments";

/** Which of these suppression hashes are on the list. */
export function suppressedRead(d1: D1Database, hashes: readonly string[]): Read<Set<string>> {
  return {
    statements: bulk(
      d1,
      `SELECT hash FROM suppressions WHERE hash IN (SELECT value FROM json_each(?1))`,
      hashes,
    ),
    parse: (results) => new Set(rowsOf<{ hash: string }>(results).map((r) => r.hash)),
  };
}

/** Which of these event ids are stored already (idempotency). */
export function existingEventsRead(d1: D1Database, ids: readonly string[]): Read<Set<string>> {
  return {
    statements: bulk(
      d1,
      `SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?1))`,
      ids,
    ),
    parse: (results) => new Set(rowsOf<{ id: string }>(results).map((r) => r.id)),
  };
}

/** What the write lane knows of the profiles a group touches, besides their graph. */
export interface TouchedProfileData {
  /** Every fragment of every identity of the profiles. */
  fragments: {
    namespace: string;
    value: string;
    dataset: string;
    attributes: Record<string, unknown>;
    updatedAt: number;
    meta: Record<string, unknown> | null;
  }[];
  /** Their events of `types` since `since` (what segment rules can look at). */
  events: {
    namespace: string;
    value: string;
    type: string;
    at: number;
    data: Record<string, unknown> | null;
  }[];
  memberships: StoredMembership[];
}

/**
 * Fragments, rule-relevant events and segment memberships of the profiles that hold any
 * of `refs` — found by the same subquery as `graphRead`, so it all loads in one round trip.
 */
export function touchedProfileDataRead(
  d1: D1Database,
  refs: readonly { namespace: string; value: string }[],
  events: { types: string[]; since: number } | undefined,
): Read<TouchedProfileData> {
  const pairs = refs.map((r) => [r.namespace, r.value]);
  const fragments = bulk(
    d1,
    `SELECT m.namespace, m.value, f.dataset, f.attributes, f.updated_at, f.meta
     FROM identities m JOIN fragments f ON f.identity_id = m.id
     WHERE m.profile_id IN (${TOUCHED_PROFILES})`,
    pairs,
  );
  const eventStatements =
    events && events.types.length > 0
      ? jsonChunks(pairs).map((chunk) =>
          d1
            .prepare(
              // From the members to their events by (identity_id, at); the type filter stays
              // off the (type, at) index (+e.type), which would scan every recent event of it.
              `SELECT m.namespace, m.value, e.type, e.at, e.data
               FROM identities m CROSS JOIN events e ON e.identity_id = m.id
               WHERE m.profile_id IN (${TOUCHED_PROFILES}) AND +e.type IN (SELECT value FROM json_each(?2)) AND e.at >= ?3`,
            )
            .bind(chunk, JSON.stringify(events.types), events.since),
        )
      : [];
  const memberships = bulk(
    d1,
    `SELECT segment_id, profile_id, status, since, recheck_at FROM memberships WHERE profile_id IN (${TOUCHED_PROFILES})`,
    pairs,
  );
  const [a, b] = [fragments.length, fragments.length + eventStatements.length];
  return {
    statements: [...fragments, ...eventStatements, ...memberships],
    parse: (results) => ({
      fragments: rowsOf<{
        namespace: string;
        value: string;
        dataset: string;
        attributes: string;
        updated_at: number;
        meta: string | null;
      }>(results.slice(0, a)).map((r) => ({
        namespace: r.namespace,
        value: r.value,
        dataset: r.dataset,
        attributes: JSON.parse(r.attributes) as Record<string, unknown>,
        updatedAt: r.updated_at,
        meta: r.meta ? (JSON.parse(r.meta) as Record<string, unknown>) : null,
      })),
      events: rowsOf<{
        namespace: string;
        value: string;
        type: string;
        at: number;
        data: string | null;
      }>(results.slice(a, b)).map((r) => ({
        namespace: r.namespace,
        value: r.value,
        type: r.type,
        at: r.at,
        data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null,
      })),
      memberships: rowsOf<{
        segment_id: string;
        profile_id: string;
        status: string;
        since: number;
        recheck_at: number | null;
      }>(results.slice(b)).map((r) => ({
        segmentId: r.segment_id,
        profileId: r.profile_id,
        status: r.status,
        since: r.since,
        recheckAt: r.recheck_at ?? null,
      })),
    }),
  };
}

/** Rows: [dataset, identityId, attributes, updatedAt, meta?]. Also refreshes the attribute index. */
export function fragmentWriteStatements(
  d1: D1Database,
  rows: readonly [string, number, Record<string, unknown>, number, Record<string, unknown>?][],
): D1PreparedStatement[] {
  if (rows.length === 0) return [];
  // Computed values are searched through their own partial index (profiles.ts), so the many
  // rewrites of a computed fragment never touch the attribute index.
  const keys = rows
    .filter(([dataset]) => dataset !== COMPUTED_DATASET)
    .map(([dataset, identityId]) => [identityId, dataset] as [number, string]);
  return [
    // The old leaves go first, recomputed from the fragments as they still are.
    ...attributeIndexRemoveStatements(d1, keys),
    ...bulk(
      d1,
      `INSERT INTO fragments (dataset, identity_id, attributes, updated_at, meta)
       SELECT ${jsonColumns(5)}
       FROM json_each(?1) WHERE true
       ON CONFLICT(identity_id, dataset) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at, meta = excluded.meta`,
      rows,
    ),
    // Leaves of the tree (arrays count as leaves), for `attr.<path>=` search.
    ...attributeIndexAddStatements(d1, keys),
  ];
}

/** Removes the fragments [identityId, dataset] and their attribute index rows. */
export function fragmentDeleteStatements(
  d1: D1Database,
  keys: readonly [number, string][],
): D1PreparedStatement[] {
  if (keys.length === 0) return [];
  return [
    ...attributeIndexRemoveStatements(
      d1,
      keys.filter(([, dataset]) => dataset !== COMPUTED_DATASET),
    ),
    ...bulk(
      d1,
      `DELETE FROM fragments WHERE (identity_id, dataset) IN (SELECT ${jsonColumns(2)} FROM json_each(?1))`,
      keys,
    ),
  ];
}

/**
 * Rows: [id, type, at, dataset, identityId, data, receivedAt], none stored yet (the writer
 * reads which ids exist first; an existing id is still left alone). The hourly counts grow
 * by one statement per call: a row write per hour, dataset and type, not per event.
 */
export function eventInsertStatements(
  d1: D1Database,
  rows: readonly [string, string, number, string, ...unknown[]][],
): D1PreparedStatement[] {
  const counts = new Map<string, [number, string, string, number]>();
  for (const [, type, at, dataset] of rows) {
    const hour = Math.floor(at / 3_600_000);
    const key = JSON.stringify([hour, dataset, type]);
    const entry = counts.get(key) ?? [hour, dataset, type, 0];
    entry[3]++;
    counts.set(key, entry);
  }
  return [
    ...bulk(
      d1,
      `INSERT OR IGNORE INTO events (id, type, at, dataset, identity_id, data, received_at)
       SELECT ${jsonColumns(7)}
       FROM json_each(?1)`,
      rows,
    ),
    ...bulk(
      d1,
      `${REPORTS_ONLY}INSERT INTO event_rollups (hour, dataset, type, events)
       SELECT ${jsonColumns(4)} FROM json_each(?1) WHERE true
       ON CONFLICT (hour, dataset, type) DO UPDATE SET events = events + excluded.events`,
      [...counts.values()],
    ),
  ];
}

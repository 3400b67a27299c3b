/**
 * Reading and writing the identity graph in D1. Reads load whole profiles (the engine's
 * requirement); writes are statements for one atomic `batch()`, built from what a
 * `GraphWorkspace` changed.
 */

import { identityKey } from "../../../shared/identity/normalize";
import type { GraphChangeset, IdentityRef, IdentityState, LinkState } from "../../model/graph";
import { identityRemovalStatements } from "./identity-removal";
import { bulk, jsonChunks, jsonColumns } from "./json-chunks";
import { type Read, rowsOf } from "./reads";

export interface IdentityRow {
  id: number;
  namespace: string;
  value: string;
  profile_id: string;
  first_seen: number;
  last_seen: number;
}

interface LinkRow {
  a_id: number;
  b_id: number;
  dataset: string;
  first_seen: number;
  last_seen: number;
  applied: number;
}

function toIdentityState(row: IdentityRow): IdentityState {
  return {
    key: identityKey(row.namespace, row.value),
    namespace: row.namespace,
    value: row.value,
    id: row.id,
    profileId: row.profile_id,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}

/** The profiles that hold any of the `[namespace, value]` pairs in JSON parameter ?1. */
export const TOUCHED_PROFILES = `SELECT i.profile_id FROM json_each(?1) j
  JOIN identities i ON i.namespace = json_extract(j.value, '$[0]') AND i.value = json_extract(j.value, '$[1]')`;

export interface LoadedGraph {
  identities: IdentityState[];
  links: LinkState[];
}

/**
 * Every identity of the profiles that hold any of `refs`, and the links among them, in
 * one round trip (the links query finds the same profiles by itself).
 */
export function graphRead(d1: D1Database, refs: readonly IdentityRef[]): Read<LoadedGraph> {
  const pairs = refs.map((r) => [r.namespace, r.value]);
  const identityStatements = bulk(
    d1,
    `SELECT id, namespace, value, profile_id, first_seen, last_seen FROM identities WHERE profile_id IN (${TOUCHED_PROFILES})`,
    pairs,
  );
  // Links whose `a` end is a member; the `b` end is filtered in code: `a_id IN (…) AND
  // b_id IN (…)` makes SQLite probe the primary key with the cross product of both lists.
  const linkStatements = bulk(
    d1,
    `SELECT a_id, b_id, dataset, first_seen, last_seen, applied FROM links
     WHERE a_id IN (SELECT id FROM identities WHERE profile_id IN (${TOUCHED_PROFILES}))`,
    pairs,
  );
  return {
    statements: [...identityStatements, ...linkStatements],
    parse(results) {
      const byId = new Map<number, IdentityState>();
      for (const row of rowsOf<IdentityRow>(results.slice(0, identityStatements.length)))
        byId.set(row.id, toIdentityState(row));
      const links = rowsOf<LinkRow>(results.slice(identityStatements.length))
        .filter((row) => byId.has(row.a_id) && byId.has(row.b_id))
        .map((row) => ({
          a: byId.get(row.a_id)!.key,
          b: byId.get(row.b_id)!.key,
          dataset: row.dataset,
          firstSeen: row.first_seen,
          lastSeen: row.last_seen,
          applied: row.applied === 1,
        }));
      return { identities: [...byId.values()], links };
    },
  };
}

/**
 * Links whose `a` end is one of `ids` (see graphRead for why `b` is filtered in code).
 */
async function linkRowsFrom(d1: D1Database, ids: readonly number[]): Promise<LinkRow[]> {
  const batches = await d1.batch<LinkRow>(
    bulk(
      d1,
      `SELECT a_id, b_id, dataset, first_seen, last_seen, applied FROM links
       WHERE a_id IN (SELECT value FROM json_each(?1))`,
      ids,
    ),
  );
  return batches.flatMap((b) => b.results);
}

/** Row ids a writer allocates from: `low` < id < `high`. */
export interface IdRange {
  low: number;
  high: number;
}

/**
 * The next free row ids of identities and history, and the next webhook sequence (the
 * GraphWriter keeps them from here on). Identity and history ids are taken from the writer's
 * own range (`low` < id < `high`; a shard's is shard × 2⁴⁰ on), so ids stay unique when
 * components move between shards; shard 0's range holds every id written before shards.
 */
export function idCountersRead(
  d1: D1Database,
  range: IdRange = { low: 0, high: 2 ** 40 },
): Read<{ identity: number; history: number; webhookSequence: number }> {
  const { low, high } = range;
  return {
    statements: [
      d1
        .prepare(
          `SELECT (SELECT coalesce(max(id), ?1) FROM identities WHERE id > ?1 AND id < ?2) AS identity,
                  (SELECT coalesce(max(id), ?1) FROM graph_history WHERE id > ?1 AND id < ?2) AS history,
                  (SELECT coalesce(max(sequence), 0) FROM webhook_deliveries) AS sequence`,
        )
        .bind(low, high),
    ],
    parse(results) {
      const row = rowsOf<{ identity: number; history: number; sequence: number }>(results)[0];
      return {
        identity: (row?.identity ?? 0) + 1,
        history: (row?.history ?? 0) + 1,
        webhookSequence: (row?.sequence ?? 0) + 1,
      };
    },
  };
}

/**
 * Statements that write a graph changeset: identities, links, profiles, deletions and
 * history. `rowId` gives the D1 row id of an identity key (stored or newly allocated);
 * history rows take ids from `firstHistoryId` on.
 */
export function graphWriteStatements(
  d1: D1Database,
  change: GraphChangeset,
  rowId: (key: string) => number | undefined,
  options: { firstHistoryId: number; now: number },
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];

  const identityRows = change.identities.map((i) => [
    rowId(i.key),
    i.namespace,
    i.value,
    i.profileId,
    i.firstSeen,
    i.lastSeen,
  ]);
  statements.push(
    ...bulk(
      d1,
      `INSERT INTO identities (id, namespace, value, profile_id, first_seen, last_seen)
       SELECT ${jsonColumns(6)}
       FROM json_each(?1) WHERE true
       ON CONFLICT(id) DO UPDATE SET profile_id = excluded.profile_id,
         first_seen = excluded.first_seen, last_seen = excluded.last_seen`,
      identityRows,
    ),
  );

  const deletedIds = change.deletedIdentities
    .map((i) => i.id)
    .filter((id): id is number => id !== undefined);
  if (deletedIds.length > 0) {
    statements.push(...identityRemovalStatements(d1, deletedIds));
  }

  const deletedLinkRows = change.deletedLinks
    .map((l) => [rowId(l.a), rowId(l.b)])
    .filter(([a, b]) => a !== undefined && b !== undefined);
  statements.push(
    ...bulk(
      d1,
      `DELETE FROM links WHERE (a_id, b_id) IN (
         SELECT ${jsonColumns(2)} FROM json_each(?1))`,
      deletedLinkRows,
    ),
  );

  const linkRows = change.links.map((l) => [
    rowId(l.a),
    rowId(l.b),
    l.dataset,
    l.firstSeen,
    l.lastSeen,
    l.applied ? 1 : 0,
  ]);
  statements.push(
    ...bulk(
      d1,
      `INSERT INTO links (a_id, b_id, dataset, first_seen, last_seen, applied)
       SELECT ${jsonColumns(6)}
       FROM json_each(?1) WHERE true
       ON CONFLICT(a_id, b_id) DO UPDATE SET first_seen = excluded.first_seen,
         last_seen = excluded.last_seen, applied = excluded.applied`,
      linkRows,
    ),
  );

  const profileRows = change.profiles.map((p) => [
    p.id,
    p.primary.namespace,
    p.primary.value,
    p.identityCount,
    options.now,
    p.namespaces,
  ]);
  statements.push(
    ...bulk(
      d1,
      `INSERT INTO profiles (id, primary_namespace, primary_value, identity_count, created_at, updated_at, namespaces)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
              json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[4]'), json_extract(value, '$[5]')
       FROM json_each(?1) WHERE true
       ON CONFLICT(id) DO UPDATE SET primary_namespace = excluded.primary_namespace,
         primary_value = excluded.primary_value, identity_count = excluded.identity_count,
         updated_at = excluded.updated_at, namespaces = excluded.namespaces`,
      profileRows,
    ),
  );
  if (change.retiredProfiles.length > 0) {
    const retired = change.retiredProfiles;
    statements.push(
      ...bulk(d1, `DELETE FROM profiles WHERE id IN (SELECT value FROM json_each(?1))`, retired),
      ...bulk(
        d1,
        `DELETE FROM memberships WHERE profile_id IN (SELECT value FROM json_each(?1))`,
        retired,
      ),
      ...bulk(
        d1,
        `DELETE FROM profile_terms WHERE profile_id IN (SELECT value FROM json_each(?1))`,
        retired,
      ),
    );
  }

  let historyId = options.firstHistoryId;
  const historyRows: unknown[] = [];
  const historyProfileRows: unknown[] = [];
  for (const entry of change.history) {
    const id = historyId++;
    historyRows.push([
      id,
      entry.at,
      entry.kind,
      entry.cause,
      JSON.stringify(entry.identities),
      JSON.stringify(entry.profiles),
    ]);
    for (const p of new Set(entry.profiles)) historyProfileRows.push([id, p]);
  }
  statements.push(
    ...bulk(
      d1,
      `INSERT INTO graph_history (id, at, kind, cause, identities, profiles)
       SELECT ${jsonColumns(6)}
       FROM json_each(?1)`,
      historyRows,
    ),
    ...bulk(
      d1,
      `INSERT OR IGNORE INTO graph_history_profiles (history_id, profile_id)
       SELECT ${jsonColumns(2)} FROM json_each(?1)`,
      historyProfileRows,
    ),
  );
  return statements;
}

/**
 * Profiles that only got activity (events, device links): their `updated_at` moves to `now`
 * when it is at least a minute old. A page view on a known device would otherwise rewrite
 * the profile row and its `updated_at` index entry (two billed row writes) every time;
 * incremental exports, which select by `updated_at`, export what activity does not change.
 */
const PROFILE_ACTIVITY_STEP_MS = 60_000;

export function profileActivityStatements(
  d1: D1Database,
  profileIds: readonly string[],
  now: number,
): D1PreparedStatement[] {
  return jsonChunks(profileIds).map((chunk) =>
    d1
      .prepare(
        "UPDATE profiles SET updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?1)) AND updated_at <= ?3",
      )
      .bind(chunk, now, now - PROFILE_ACTIVITY_STEP_MS),
  );
}

// ---- reads for the API ---------------------------------------------------------------

interface StoredIdentity {
  id: number;
  namespace: string;
  value: string;
  profileId: string;
  firstSeen: number;
  lastSeen: number;
}

const toStored = (r: IdentityRow): StoredIdentity => ({
  id: r.id,
  namespace: r.namespace,
  value: r.value,
  profileId: r.profile_id,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
});

export async function findIdentity(
  d1: D1Database,
  ref: IdentityRef,
): Promise<StoredIdentity | undefined> {
  const row = await d1
    .prepare(
      `SELECT id, namespace, value, profile_id, first_seen, last_seen FROM identities WHERE namespace = ?1 AND value = ?2`,
    )
    .bind(ref.namespace, ref.value)
    .first<IdentityRow>();
  return row ? toStored(row) : undefined;
}

export async function profileIdentities(
  d1: D1Database,
  profileId: string,
): Promise<StoredIdentity[]> {
  const { results } = await d1
    .prepare(
      `SELECT id, namespace, value, profile_id, first_seen, last_seen FROM identities WHERE profile_id = ?1 ORDER BY namespace, value`,
    )
    .bind(profileId)
    .all<IdentityRow>();
  return results.map(toStored);
}

interface StoredLink {
  aId: number;
  bId: number;
  dataset: string;
  firstSeen: number;
  lastSeen: number;
  applied: boolean;
}

/** A link a cap refused between a profile's identity and one of another profile, with that identity. */
interface RefusedLink extends StoredLink {
  other: { id: number; namespace: string; value: string; profileId: string };
}

/** Links kept but not applied from `identityIds` (one profile's) to identities of other profiles. */
export async function refusedLinksOut(
  d1: D1Database,
  identityIds: readonly number[],
  profileId: string,
): Promise<RefusedLink[]> {
  if (identityIds.length === 0) return [];
  const { results } = await d1
    .prepare(
      `SELECT l.a_id, l.b_id, l.dataset, l.first_seen, l.last_seen, o.id AS other_id, o.namespace, o.value, o.profile_id
       FROM (SELECT * FROM links WHERE applied = 0 AND a_id IN (SELECT value FROM json_each(?1))
             UNION ALL SELECT * FROM links WHERE applied = 0 AND b_id IN (SELECT value FROM json_each(?1))) l
       JOIN identities o ON o.id = CASE WHEN l.a_id IN (SELECT value FROM json_each(?1)) THEN l.b_id ELSE l.a_id END
       WHERE o.profile_id != ?2
       ORDER BY l.last_seen DESC LIMIT 200`,
    )
    .bind(JSON.stringify(identityIds), profileId)
    .all<LinkRow & { other_id: number; namespace: string; value: string; profile_id: string }>();
  return results.map((r) => ({
    aId: r.a_id,
    bId: r.b_id,
    dataset: r.dataset,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    applied: false,
    other: { id: r.other_id, namespace: r.namespace, value: r.value, profileId: r.profile_id },
  }));
}

export async function linksAmong(
  d1: D1Database,
  identityIds: readonly number[],
): Promise<StoredLink[]> {
  if (identityIds.length === 0) return [];
  const members = new Set(identityIds);
  const rows = await linkRowsFrom(d1, identityIds);
  return rows
    .filter((r) => members.has(r.b_id))
    .sort((x, y) => y.last_seen - x.last_seen)
    .map((r) => ({
      aId: r.a_id,
      bId: r.b_id,
      dataset: r.dataset,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      applied: r.applied === 1,
    }));
}

interface StoredHistory {
  at: number;
  kind: string;
  cause: string;
  identities: string[];
  profiles: string[];
}

export async function profileHistory(
  d1: D1Database,
  profileId: string,
  limit = 100,
): Promise<StoredHistory[]> {
  const { results } = await d1
    .prepare(
      `SELECT h.at, h.kind, h.cause, h.identities, h.profiles FROM graph_history_profiles hp
       JOIN graph_history h ON h.id = hp.history_id
       WHERE hp.profile_id = ?1 ORDER BY h.at DESC, h.id DESC LIMIT ?2`,
    )
    .bind(profileId, limit)
    .all<{ at: number; kind: string; cause: string; identities: string; profiles: string }>();
  return results.map((r) => ({
    at: r.at,
    kind: r.kind,
    cause: r.cause,
    identities: JSON.parse(r.identities),
    profiles: JSON.parse(r.profiles),
  }));
}

import { and, desc, eq } from "drizzle-orm";
import type {
  DestinationConfig,
  WebhookDestinationConfig,
} from "../../../shared/schemas/destinations";
import type { Db } from "../client";
import { destinationRuns, destinations } from "../schema";
import type { IdentityRow } from "./graph";

export type DestinationRow = typeof destinations.$inferSelect;
export type RunRow = typeof destinationRuns.$inferSelect;
export type { PartInfo } from "../../model/jobs";

export async function putDestination(
  db: Db,
  name: string,
  config: DestinationConfig | WebhookDestinationConfig,
): Promise<DestinationRow> {
  const now = Date.now();
  // Webhooks stream; they have no export schedule.
  const schedule = config.type === "webhook" ? "stream" : config.schedule;
  const [row] = await db
    .insert(destinations)
    .values({
      name,
      type: config.type,
      config: config as unknown as Record<string, unknown>,
      schedule,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: destinations.name,
      set: {
        type: config.type,
        config: config as unknown as Record<string, unknown>,
        schedule,
        updatedAt: now,
      },
    })
    .returning();
  return row!;
}

export async function getDestination(db: Db, name: string): Promise<DestinationRow | undefined> {
  return db.query.destinations.findFirst({ where: eq(destinations.name, name) });
}

/** Removes a destination and its run history (a new one of the same name starts afresh); files already written stay. */
export async function deleteDestination(db: Db, name: string): Promise<{ runs: number }> {
  const [, runs] = await db.batch([
    db.delete(destinations).where(eq(destinations.name, name)),
    db
      .delete(destinationRuns)
      .where(eq(destinationRuns.destination, name))
      .returning({ id: destinationRuns.id }),
  ]);
  return { runs: runs.length };
}

export async function listDestinations(db: Db): Promise<DestinationRow[]> {
  return db.select().from(destinations).orderBy(destinations.name);
}

/** `cursor`: the run's plan (content, format, mode, where it starts). */
export async function createRun(
  db: Db,
  row: { id: string; destination: string; trigger: string; cursor: string },
): Promise<RunRow> {
  const now = Date.now();
  const fresh = {
    status: "queued",
    profiles: 0,
    rows: 0,
    parts: [],
    cursor: row.cursor,
    manifest: null,
    error: null,
    startedAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  const [run] = await db
    .insert(destinationRuns)
    .values({ id: row.id, destination: row.destination, trigger: row.trigger, ...fresh })
    .onConflictDoUpdate({ target: destinationRuns.id, set: fresh })
    .returning();
  await db
    .update(destinations)
    .set({ lastRunAt: now })
    .where(eq(destinations.name, row.destination));
  return run!;
}

export async function getRun(db: Db, id: string): Promise<RunRow | undefined> {
  return db.query.destinationRuns.findFirst({ where: eq(destinationRuns.id, id) });
}

export async function listRuns(db: Db, destination: string, limit = 50): Promise<RunRow[]> {
  return db
    .select()
    .from(destinationRuns)
    .where(eq(destinationRuns.destination, destination))
    .orderBy(desc(destinationRuns.startedAt))
    .limit(limit);
}

export async function updateRun(
  db: Db,
  id: string,
  set: Partial<Omit<RunRow, "id">>,
): Promise<void> {
  await db
    .update(destinationRuns)
    .set({ ...set, updatedAt: Date.now() })
    .where(eq(destinationRuns.id, id));
}

/** The next page of profile ids (in a segment; changed since `since` for incremental runs). */
export async function exportPageFacts(
  d1: D1Database,
  afterId: string,
  limit: number,
  segment: string | undefined,
  since = 0,
) {
  const { results: ids } = await d1
    .prepare(
      segment
        ? `SELECT p.id FROM profiles p JOIN memberships m ON m.profile_id = p.id AND m.segment_id = ?3 AND m.status = 'realized' WHERE p.id > ?1 AND p.updated_at >= ?4 ORDER BY p.id LIMIT ?2`
        : `SELECT p.id FROM profiles p WHERE p.id > ?1 AND ?3 IS NULL AND p.updated_at >= ?4 ORDER BY p.id LIMIT ?2`,
    )
    .bind(afterId, limit, segment ?? null, since)
    .all<{ id: string }>();
  return ids.map((r) => r.id);
}

/** The newest event row id: a run exports events up to here, an incremental run from the last run's. */
export async function eventHighWater(d1: D1Database): Promise<number> {
  const row = await d1
    .prepare(`SELECT coalesce(max(rowid), 0) AS high FROM events`)
    .first<{ high: number }>();
  return row?.high ?? 0;
}

export interface EventExportRow {
  rowid: number;
  id: string;
  type: string;
  at: number;
  dataset: string;
  data: string | null;
  received_at: number;
  profile_id: string | null;
  namespace: string | null;
  value: string | null;
}

/** Events with rowid in (after, high], oldest first, with their identity and profile. */
export async function eventExportPage(
  d1: D1Database,
  after: number,
  high: number,
  limit: number,
): Promise<EventExportRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT e.rowid AS rowid, e.id, e.type, e.at, e.dataset, e.data, e.received_at, i.profile_id, i.namespace, i.value
       FROM events e LEFT JOIN identities i ON i.id = e.identity_id
       WHERE e.rowid > ?1 AND e.rowid <= ?2 ORDER BY e.rowid LIMIT ?3`,
    )
    .bind(after, high, limit)
    .all<EventExportRow>();
  return results;
}

type IdentityExportRow = IdentityRow;

/**
 * The identity map by row id; incremental (`window`): identities seen, or whose profile
 * changed, in [since, until) — bounded above, so an identity whose last-seen time lies in
 * the future is not exported again by every later run.
 */
export async function identityExportPage(
  d1: D1Database,
  after: number,
  window: { since: number; until: number } | undefined,
  limit: number,
): Promise<IdentityExportRow[]> {
  const until = window?.until || Number.MAX_SAFE_INTEGER;
  const { results } = await d1
    .prepare(
      `SELECT i.id, i.namespace, i.value, i.profile_id, i.first_seen, i.last_seen FROM identities i
       WHERE i.id > ?1 AND (?2 IS NULL OR (i.last_seen >= ?2 AND i.last_seen < ?4)
         OR EXISTS (SELECT 1 FROM profiles p WHERE p.id = i.profile_id AND p.updated_at >= ?2 AND p.updated_at < ?4))
       ORDER BY i.id LIMIT ?3`,
    )
    .bind(after, window ? window.since : null, limit, until)
    .all<IdentityExportRow>();
  return results;
}

/** The destination's last completed run (what an incremental run continues from). */
export async function lastCompletedRun(db: Db, destination: string): Promise<RunRow | undefined> {
  const [row] = await db
    .select()
    .from(destinationRuns)
    .where(
      and(eq(destinationRuns.destination, destination), eq(destinationRuns.status, "completed")),
    )
    .orderBy(desc(destinationRuns.startedAt))
    .limit(1);
  return row;
}

interface ExportBundle {
  profiles: { id: string; primary_namespace: string; primary_value: string; updated_at: number }[];
  identities: { profile_id: string; namespace: string; value: string }[];
  fragments: {
    profile_id: string;
    namespace: string;
    value: string;
    dataset: string;
    attributes: string;
    updated_at: number;
  }[];
}

/** Everything needed to write one page of merged profiles, in one D1 batch. */
export async function exportBundle(
  d1: D1Database,
  profileIds: readonly string[],
): Promise<ExportBundle> {
  const ids = JSON.stringify(profileIds);
  const [profiles, identities, fragments] = await d1.batch<Record<string, any>>([
    d1
      .prepare(
        `SELECT id, primary_namespace, primary_value, updated_at FROM profiles WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id`,
      )
      .bind(ids),
    d1
      .prepare(
        `SELECT profile_id, namespace, value FROM identities WHERE profile_id IN (SELECT value FROM json_each(?1)) ORDER BY namespace, value`,
      )
      .bind(ids),
    d1
      .prepare(
        `SELECT i.profile_id, i.namespace, i.value, f.dataset, f.attributes, f.updated_at FROM identities i
         JOIN fragments f ON f.identity_id = i.id WHERE i.profile_id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(ids),
  ]);
  return {
    profiles: profiles!.results as ExportBundle["profiles"],
    identities: identities!.results as ExportBundle["identities"],
    fragments: fragments!.results as ExportBundle["fragments"],
  };
}

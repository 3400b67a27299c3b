/** SQL for retention: expired events, idle pseudonymous profiles, and maintenance runs. */

import { desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { maintenanceRuns } from "../schema";
import type { EventExportRow } from "./exports";
import { identityRemovalStatements } from "./identity-removal";
import { bulk, jsonColumns } from "./json-chunks";

/**
 * Events of a dataset older than `cutoff` (by timestamp), with identity and profile. The
 * hourly rollups name the event types the dataset has before the cutoff, so the scan runs
 * on the (type, at) index, oldest first per type.
 */
export async function expiredEventsPage(
  d1: D1Database,
  dataset: string,
  cutoff: number,
  limit: number,
): Promise<EventExportRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT e.rowid AS rowid, e.id, e.type, e.at, e.dataset, e.data, e.received_at, i.profile_id, i.namespace, i.value
       FROM events e LEFT JOIN identities i ON i.id = e.identity_id
       WHERE e.type IN (SELECT DISTINCT type FROM event_rollups WHERE dataset = ?1 AND hour <= ?4 AND events > 0)
         AND e.at < ?2 AND e.dataset = ?1 LIMIT ?3`,
    )
    .bind(dataset, cutoff, limit, Math.floor(cutoff / 3_600_000))
    .all<EventExportRow>();
  return results;
}

/** The profiles of some events (before they are deleted). */
export async function profilesOfEvents(
  d1: D1Database,
  eventIds: readonly string[],
): Promise<string[]> {
  const batches = await d1.batch<{ profile_id: string }>(
    bulk(
      d1,
      `SELECT DISTINCT i.profile_id FROM events e JOIN identities i ON i.id = e.identity_id WHERE e.id IN (SELECT value FROM json_each(?1))`,
      eventIds,
    ),
  );
  return [...new Set(batches.flatMap((b) => b.results.map((r) => r.profile_id)))];
}

/** How many of these events exist. */
export async function countEvents(d1: D1Database, eventIds: readonly string[]): Promise<number> {
  const batches = await d1.batch<{ n: number }>(
    bulk(
      d1,
      `SELECT count(*) AS n FROM events WHERE id IN (SELECT value FROM json_each(?1))`,
      eventIds,
    ),
  );
  return batches.reduce((sum, b) => sum + (b.results[0]?.n ?? 0), 0);
}

export function deleteEventsStatements(
  d1: D1Database,
  eventIds: readonly string[],
): D1PreparedStatement[] {
  return bulk(d1, `DELETE FROM events WHERE id IN (SELECT value FROM json_each(?1))`, eventIds);
}

/**
 * One page of profiles (by id, after `after`), each with whether it has expired: every
 * identity in a pseudonymous namespace and none seen at or after `cutoff`. A page is
 * bounded by profiles read, not by matches, so a slice never scans the whole table.
 */
export async function pseudonymousPage(
  d1: D1Database,
  after: string,
  cutoff: number,
  limit: number,
): Promise<{ id: string; expired: number }[]> {
  const { results } = await d1
    .prepare(
      `WITH page AS (SELECT id FROM profiles WHERE id > ?1 ORDER BY id LIMIT ?3)
       SELECT page.id, NOT EXISTS (
         SELECT 1 FROM identities i LEFT JOIN namespaces n ON n.code = i.namespace
         WHERE i.profile_id = page.id AND (coalesce(n.pseudonymous, 0) = 0 OR i.last_seen >= ?2)
       ) AS expired
       FROM page ORDER BY page.id`,
    )
    .bind(after, cutoff, limit)
    .all<{ id: string; expired: number }>();
  return results;
}

interface ExpiringIdentity {
  id: number;
  namespace: string;
  value: string;
  profile_id: string;
}

export async function identitiesOfProfiles(
  d1: D1Database,
  profileIds: readonly string[],
): Promise<ExpiringIdentity[]> {
  const batches = await d1.batch<ExpiringIdentity>(
    bulk(
      d1,
      `SELECT id, namespace, value, profile_id FROM identities WHERE profile_id IN (SELECT value FROM json_each(?1))`,
      profileIds,
    ),
  );
  return batches.flatMap((b) => b.results);
}

/**
 * Removes profiles with their data and links; unlike an erase, the graph history stays
 * (and gains a `delete` entry per profile, written by the caller) and nothing is suppressed.
 */
export function expireProfilesStatements(
  d1: D1Database,
  profileIds: readonly string[],
  identityIds: readonly number[],
): D1PreparedStatement[] {
  return [
    ...identityRemovalStatements(d1, identityIds),
    ...["memberships", "profile_terms"].flatMap((table) =>
      bulk(
        d1,
        `DELETE FROM ${table} WHERE profile_id IN (SELECT value FROM json_each(?1))`,
        profileIds,
      ),
    ),
    ...bulk(d1, `DELETE FROM profiles WHERE id IN (SELECT value FROM json_each(?1))`, profileIds),
  ];
}

/** Rows: [id, at, kind, cause, identitiesJson, profilesJson] and their [historyId, profileId]. */
export function historyInsertStatements(
  d1: D1Database,
  rows: readonly unknown[][],
  profileRows: readonly unknown[][],
): D1PreparedStatement[] {
  return [
    ...bulk(
      d1,
      `INSERT INTO graph_history (id, at, kind, cause, identities, profiles) SELECT ${jsonColumns(6)} FROM json_each(?1)`,
      rows,
    ),
    ...bulk(
      d1,
      `INSERT OR IGNORE INTO graph_history_profiles (history_id, profile_id) SELECT ${jsonColumns(2)} FROM json_each(?1)`,
      profileRows,
    ),
  ];
}

export type MaintenanceRunRow = typeof maintenanceRuns.$inferSelect;

/** `startedAt`: the run's clock (the cron's scheduled time, or now). */
export async function createMaintenanceRun(
  db: Db,
  id: string,
  trigger: string,
  cursor: Record<string, unknown>,
  startedAt: number,
): Promise<void> {
  await db
    .insert(maintenanceRuns)
    .values({ id, status: "queued", trigger, cursor, startedAt, updatedAt: Date.now() });
}

export async function getMaintenanceRun(
  db: Db,
  id: string,
): Promise<MaintenanceRunRow | undefined> {
  return db.query.maintenanceRuns.findFirst({ where: eq(maintenanceRuns.id, id) });
}

export async function listMaintenanceRuns(db: Db, limit = 50): Promise<MaintenanceRunRow[]> {
  return db.select().from(maintenanceRuns).orderBy(desc(maintenanceRuns.startedAt)).limit(limit);
}

/**
 * Records a retention step (cursor, counts, parts) as one statement for the writer's batch;
 * a step already recorded (a redelivery) is not recorded again.
 */
export function maintenanceProgressStatement(
  d1: D1Database,
  runId: string,
  step: number,
  set: {
    cursor: string;
    eventsExpired: number;
    eventsArchived: number;
    profilesExpired: number;
    parts: string;
    now: number;
  },
): D1PreparedStatement {
  return d1
    .prepare(
      `UPDATE maintenance_runs SET cursor = ?3, events_expired = ?4, events_archived = ?5, profiles_expired = ?6, parts = ?7, status = 'running', updated_at = ?8
       WHERE id = ?1 AND status IN ('queued', 'running') AND coalesce(json_extract(cursor, '$.step'), 0) < ?2`,
    )
    .bind(
      runId,
      step,
      set.cursor,
      set.eventsExpired,
      set.eventsArchived,
      set.profilesExpired,
      set.parts,
      set.now,
    );
}

export async function updateMaintenanceRun(
  db: Db,
  id: string,
  set: Partial<Omit<MaintenanceRunRow, "id">>,
): Promise<void> {
  await db
    .update(maintenanceRuns)
    .set({ ...set, updatedAt: Date.now() })
    .where(eq(maintenanceRuns.id, id));
}

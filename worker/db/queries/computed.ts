/**
 * SQL for computed attributes (SPEC §7): the definitions (control plane, D1), the
 * windows' recheck list, and the reads the writer's background work needs. The values and
 * states themselves are `computed` fragments (`computed/profiles.ts`).
 */
import { asc, eq } from "drizzle-orm";
import type { ComputedMeta, StoredDefinition } from "../../model/computed";
import type { Db } from "../client";
import { computedAttributes } from "../schema";
import { bulk, jsonColumns } from "./json-chunks";
import { type Read, rowsOf } from "./reads";

export type ComputedRow = typeof computedAttributes.$inferSelect;

export async function listComputed(db: Db): Promise<ComputedRow[]> {
  return db.select().from(computedAttributes).orderBy(asc(computedAttributes.id));
}

export async function getComputed(db: Db, id: string): Promise<ComputedRow | undefined> {
  return db.query.computedAttributes.findFirst({ where: eq(computedAttributes.id, id) });
}

/**
 * The next definition version: a counter kept in `settings`, never handed out twice — so a
 * definition deleted and created again never takes a version whose states are still
 * stored. Small numbers, because every identity's state carries one.
 */
async function nextVersion(d1: D1Database, now: number): Promise<number> {
  const row = await d1
    .prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES ('computed-version', '1', ?1)
       ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1, updated_at = ?1 RETURNING value`,
    )
    .bind(now)
    .first<{ value: string | number }>();
  return Number(row!.value);
}

/** Creates or replaces a definition and restarts its computation under a new version. */
export async function putComputed(
  db: Db,
  row: { id: string; name: string; definition: StoredDefinition },
): Promise<ComputedRow> {
  const now = Date.now();
  const version = await nextVersion(db.$client, now);
  const definition = row.definition as unknown as Record<string, unknown>;
  const [stored] = await db
    .insert(computedAttributes)
    .values({
      id: row.id,
      name: row.name,
      definition,
      status: "backfilling",
      computedIdentities: 0,
      computeAfter: 0,
      version,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: computedAttributes.id,
      set: {
        name: row.name,
        definition,
        status: "backfilling",
        computedIdentities: 0,
        computeAfter: 0,
        version,
        updatedAt: now,
      },
    })
    .returning();
  return stored!;
}

export async function deleteComputed(db: Db, id: string): Promise<boolean> {
  const deleted = await db
    .delete(computedAttributes)
    .where(eq(computedAttributes.id, id))
    .returning({ id: computedAttributes.id });
  return deleted.length > 0;
}

/** Every stored definition with its version (computed/definitions.ts `toDef` makes what the writer applies). */
export async function loadStoredDefinitions(
  d1: D1Database,
): Promise<{ id: string; name: string; definition: StoredDefinition; version: number }[]> {
  const { results } = await d1
    .prepare(`SELECT id, name, definition, version FROM computed_attributes ORDER BY id`)
    .all<{ id: string; name: string; definition: string; version: number }>();
  return results.map((r) => ({ ...r, definition: JSON.parse(r.definition) as StoredDefinition }));
}

export async function countIdentities(d1: D1Database): Promise<number> {
  return (await d1.prepare("SELECT count(*) AS n FROM identities").first<{ n: number }>())?.n ?? 0;
}

/** Records a backfill slice (guarded by version: a changed definition's old run records nothing). */
export function computedProgressStatement(
  d1: D1Database,
  id: string,
  version: number,
  computed: number,
  done: boolean,
  after: number,
): D1PreparedStatement {
  return d1
    .prepare(
      `UPDATE computed_attributes SET computed_identities = ?3, status = ?4, compute_after = ?5, updated_at = ?6 WHERE id = ?1 AND version = ?2`,
    )
    .bind(id, version, computed, done ? "ready" : "backfilling", after, Date.now());
}

// ---- the writer's side ---------------------------------------------------------------

/** Rows: [identityId, recheckAt|null]; null removes the identity from the recheck list. */
export function recheckWriteStatements(
  d1: D1Database,
  rows: readonly [number, number | null][],
): D1PreparedStatement[] {
  return [
    ...bulk(
      d1,
      `INSERT INTO computed_rechecks (identity_id, recheck_at) SELECT ${jsonColumns(2)} FROM json_each(?1) WHERE true
       ON CONFLICT(identity_id) DO UPDATE SET recheck_at = excluded.recheck_at`,
      rows.filter(([, at]) => at !== null),
    ),
    ...bulk(
      d1,
      `DELETE FROM computed_rechecks WHERE identity_id IN (SELECT value FROM json_each(?1))`,
      rows.filter(([, at]) => at === null).map(([id]) => id),
    ),
  ];
}

/** Identity ids after `after`, in order (a backfill page). */
export async function identityPage(
  d1: D1Database,
  after: number,
  limit: number,
): Promise<number[]> {
  const { results } = await d1
    .prepare(`SELECT id FROM identities WHERE id > ?1 ORDER BY id LIMIT ?2`)
    .bind(after, limit)
    .all<{ id: number }>();
  return results.map((r) => r.id);
}

/** Identities whose rolling windows have an event to drop by `now`. */
export async function dueComputedRechecks(
  d1: D1Database,
  now: number,
  limit: number,
): Promise<number[]> {
  const { results } = await d1
    .prepare(
      `SELECT identity_id FROM computed_rechecks WHERE recheck_at <= ?1 ORDER BY recheck_at LIMIT ?2`,
    )
    .bind(now, limit)
    .all<{ identity_id: number }>();
  return results.map((r) => r.identity_id);
}

/** The identities that hold these events. */
export async function identitiesOfEvents(
  d1: D1Database,
  eventIds: readonly string[],
): Promise<number[]> {
  const results = await d1.batch<Record<string, unknown>>(
    bulk(
      d1,
      `SELECT DISTINCT identity_id FROM events WHERE id IN (SELECT value FROM json_each(?1))`,
      eventIds,
    ),
  );
  return [...new Set(rowsOf<{ identity_id: number }>(results).map((r) => r.identity_id))];
}

export interface MemberRow {
  id: number;
  profileId: string;
  namespace: string;
  value: string;
  /** The identity's `computed` fragment, if it has one. */
  computed: { attributes: Record<string, unknown>; meta: ComputedMeta | null } | undefined;
}

/** Every identity (with its `computed` fragment) of the profiles that hold `identityIds`. */
export function membersRead(d1: D1Database, identityIds: readonly number[]): Read<MemberRow[]> {
  return {
    statements: bulk(
      d1,
      `SELECT i.id, i.profile_id, i.namespace, i.value, f.attributes, f.meta FROM identities i
       LEFT JOIN fragments f ON f.identity_id = i.id AND f.dataset = 'computed'
       WHERE i.profile_id IN (SELECT profile_id FROM identities WHERE id IN (SELECT value FROM json_each(?1)))`,
      identityIds,
    ),
    parse: (results) =>
      rowsOf<{
        id: number;
        profile_id: string;
        namespace: string;
        value: string;
        attributes: string | null;
        meta: string | null;
      }>(results).map((r) => ({
        id: r.id,
        profileId: r.profile_id,
        namespace: r.namespace,
        value: r.value,
        computed:
          r.attributes === null
            ? undefined
            : {
                attributes: JSON.parse(r.attributes) as Record<string, unknown>,
                meta: r.meta ? (JSON.parse(r.meta) as ComputedMeta) : null,
              },
      })),
  };
}

/**
 * Events of these identities of `types` (all when undefined) since `since`: what a
 * recompute folds. Callers pass a slice's identities (hundreds), one JSON parameter.
 */
export function identityEventsRead(
  d1: D1Database,
  identityIds: readonly number[],
  types: string[] | undefined,
  since: number,
): Read<
  {
    id: string;
    identityId: number;
    type: string;
    at: number;
    data: Record<string, unknown> | null;
  }[]
> {
  const typeFilter = types
    ? `AND +type IN (SELECT value FROM json_each(?2))`
    : `AND ?2 IS NOT NULL`;
  return {
    statements: [
      d1
        .prepare(
          `SELECT id, identity_id, type, at, data FROM events WHERE identity_id IN (SELECT value FROM json_each(?1)) ${typeFilter} AND at >= ?3`,
        )
        .bind(JSON.stringify(identityIds), JSON.stringify(types ?? []), since),
    ],
    parse: (results) =>
      rowsOf<{ id: string; identity_id: number; type: string; at: number; data: string | null }>(
        results,
      ).map((r) => ({
        id: r.id,
        identityId: r.identity_id,
        type: r.type,
        at: r.at,
        data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null,
      })),
  };
}

/** SQL for previews of a configuration change on existing graphs (SPEC §9): which graphs, and their neighbours. */
import { desc, eq } from "drizzle-orm";
import type { IdentityRef } from "../../model/graph";
import type { Db } from "../client";
import { graphRuns } from "../schema";
import { TOUCHED_PROFILES } from "./graph";
import { bulk } from "./json-chunks";
import { rowsOf } from "./reads";

/** Up to `limit` + 1 profile ids in scope: holding one of `identities`, or an identity of `namespace`, or any. */
export async function profilesInScope(
  d1: D1Database,
  scope: { identities?: readonly IdentityRef[]; namespace?: string },
  limit: number,
): Promise<string[]> {
  if (scope.identities?.length) {
    const results = await d1.batch<Record<string, unknown>>(
      bulk(
        d1,
        `SELECT DISTINCT profile_id FROM (${TOUCHED_PROFILES}) ORDER BY profile_id`,
        scope.identities.map((r) => [r.namespace, r.value]),
      ),
    );
    return rowsOf<{ profile_id: string }>(results)
      .map((r) => r.profile_id)
      .slice(0, limit + 1);
  }
  return profilesAfter(d1, scope, "", limit + 1);
}

/**
 * The identities of these profiles, and of the profiles their refused links reach (a
 * relaxed rule may apply those links now), as refs for the working set's load.
 */
export async function graphRefs(
  d1: D1Database,
  profileIds: readonly string[],
): Promise<IdentityRef[]> {
  const ids = JSON.stringify(profileIds);
  const { results } = await d1
    .prepare(
      `WITH members AS (SELECT id FROM identities WHERE profile_id IN (SELECT value FROM json_each(?1))),
            neighbours AS (
              SELECT b_id AS id FROM links WHERE applied = 0 AND a_id IN (SELECT id FROM members)
              UNION SELECT a_id FROM links WHERE applied = 0 AND b_id IN (SELECT id FROM members))
       SELECT namespace, value FROM identities WHERE profile_id IN (SELECT value FROM json_each(?1))
          OR profile_id IN (SELECT profile_id FROM identities WHERE id IN (SELECT id FROM neighbours))`,
    )
    .bind(ids)
    .all<{ namespace: string; value: string }>();
  return results;
}

// ---- runs ------------------------------------------------------------------------------

export type GraphRunRow = typeof graphRuns.$inferSelect;

export async function createGraphRun(
  db: Db,
  row: {
    id: string;
    kind: "apply" | "revert";
    change: Record<string, unknown>;
    scope: { namespace?: string };
    blocked: Record<string, string[]>;
    reverts?: string;
  },
): Promise<void> {
  const now = Date.now();
  await db.insert(graphRuns).values({
    id: row.id,
    kind: row.kind,
    status: "running",
    change: row.change,
    scope: row.scope,
    blocked: row.blocked,
    reverts: row.reverts ?? null,
    createdAt: now,
    updatedAt: now,
  });
}

export async function getGraphRun(db: Db, id: string): Promise<GraphRunRow | undefined> {
  const [row] = await db.select().from(graphRuns).where(eq(graphRuns.id, id));
  return row;
}

/**
 * The next profiles of a scope after `after`, in id order: a walk of the profiles' primary
 * key, filtered by the namespaces each profile row lists (identities have no index by
 * namespace and profile, and a scan of them per slice would hold the write lane).
 */
export async function profilesAfter(
  d1: D1Database,
  scope: { namespace?: string },
  after: string,
  limit: number,
): Promise<string[]> {
  const { results } = scope.namespace
    ? await d1
        .prepare(
          `SELECT id FROM profiles WHERE id > ?1 AND instr(',' || namespaces || ',', ?2) > 0 ORDER BY id LIMIT ?3`,
        )
        .bind(after, `,${scope.namespace},`, limit)
        .all<{ id: string }>()
    : await d1
        .prepare(`SELECT id FROM profiles WHERE id > ?1 ORDER BY id LIMIT ?2`)
        .bind(after, limit)
        .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** The newest runs first. */
export async function listGraphRuns(db: Db, limit: number): Promise<GraphRunRow[]> {
  return db.select().from(graphRuns).orderBy(desc(graphRuns.createdAt)).limit(limit);
}

/** Records a slice of a run (in the slice's own write). */
export function graphRunProgressStatement(
  d1: D1Database,
  id: string,
  counts: { graphs: number; merges: number; splits: number; moves: number; evictions: number },
  after: string,
  done: boolean,
): D1PreparedStatement {
  return d1
    .prepare(
      `UPDATE graph_runs SET graphs_checked = graphs_checked + ?2, merges = merges + ?3, splits = splits + ?4, moves = moves + ?5, evictions = evictions + ?6,
         after = ?7, status = ?8, updated_at = ?9 WHERE id = ?1`,
    )
    .bind(
      id,
      counts.graphs,
      counts.merges,
      counts.splits,
      counts.moves,
      counts.evictions,
      after,
      done ? "completed" : "running",
      Date.now(),
    );
}

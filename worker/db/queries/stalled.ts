/**
 * Background work that stopped making progress (a crashed consumer, a lost queue
 * message): batch files, export runs, segment evaluations and retention runs. Each query claims what it
 * returns by bumping its progress time, so the next sweep does not pick it up again
 * before the re-sent step has had its chance.
 */
interface StalledBatch {
  id: string;
  /** The last recorded chunk, or null when none was recorded yet. */
  lastChunk: number | null;
  nextOffset: number;
  nextLine: number;
}

const SWEEP_LIMIT = 50;

export async function claimStalledBatches(
  d1: D1Database,
  olderThan: number,
  now: number,
): Promise<StalledBatch[]> {
  const { results } = await d1
    .prepare(
      `UPDATE batches SET updated_at = ?2
       WHERE id IN (SELECT id FROM batches WHERE status IN ('queued', 'processing') AND updated_at < ?1 ORDER BY updated_at LIMIT ${SWEEP_LIMIT})
       RETURNING id,
         (SELECT max(chunk) FROM batch_chunks c WHERE c.batch_id = batches.id) AS last_chunk,
         coalesce((SELECT next_offset FROM batch_chunks c WHERE c.batch_id = batches.id ORDER BY chunk DESC LIMIT 1), 0) AS next_offset,
         coalesce((SELECT next_line FROM batch_chunks c WHERE c.batch_id = batches.id ORDER BY chunk DESC LIMIT 1), 1) AS next_line`,
    )
    .bind(olderThan, now)
    .all<{ id: string; last_chunk: number | null; next_offset: number; next_line: number }>();
  return results.map((r) => ({
    id: r.id,
    lastChunk: r.last_chunk,
    nextOffset: r.next_offset,
    nextLine: r.next_line,
  }));
}

export async function claimStalledExportRuns(
  d1: D1Database,
  olderThan: number,
  now: number,
): Promise<{ id: string; cursor: string | null }[]> {
  const { results } = await d1
    .prepare(
      `UPDATE destination_runs SET updated_at = ?2
       WHERE id IN (SELECT id FROM destination_runs WHERE status IN ('queued', 'running') AND coalesce(updated_at, started_at) < ?1 LIMIT ${SWEEP_LIMIT})
       RETURNING id, cursor`,
    )
    .bind(olderThan, now)
    .all<{ id: string; cursor: string | null }>();
  return results;
}

export async function claimStalledSegmentEvaluations(
  d1: D1Database,
  olderThan: number,
  now: number,
): Promise<{ id: string; version: number; after: string; evaluated: number }[]> {
  const { results } = await d1
    .prepare(
      `UPDATE segments SET updated_at = ?2
       WHERE id IN (SELECT id FROM segments WHERE status = 'evaluating' AND updated_at < ?1 LIMIT ${SWEEP_LIMIT})
       RETURNING id, version, coalesce(evaluate_after, '') AS after, evaluated_profiles AS evaluated`,
    )
    .bind(olderThan, now)
    .all<{ id: string; version: number; after: string; evaluated: number }>();
  return results;
}

/** Computed attributes whose background computation has not finished (resumed after the last identity it recorded). */
export async function claimStalledComputed(
  d1: D1Database,
  olderThan: number,
  now: number,
): Promise<{ id: string; version: number; after: number; computed: number }[]> {
  const { results } = await d1
    .prepare(
      `UPDATE computed_attributes SET updated_at = ?2
       WHERE id IN (SELECT id FROM computed_attributes WHERE status = 'backfilling' AND updated_at < ?1 LIMIT ${SWEEP_LIMIT})
       RETURNING id, version, compute_after AS after, computed_identities AS computed`,
    )
    .bind(olderThan, now)
    .all<{ id: string; version: number; after: number; computed: number }>();
  return results;
}

/** Graph runs: resumed after the last profile they recorded. */
export async function claimStalledGraphRuns(
  d1: D1Database,
  olderThan: number,
  now: number,
): Promise<{ id: string; after: string; scope: string; blocked: string }[]> {
  const { results } = await d1
    .prepare(
      `UPDATE graph_runs SET updated_at = ?2
       WHERE id IN (SELECT id FROM graph_runs WHERE status = 'running' AND updated_at < ?1 LIMIT ${SWEEP_LIMIT})
       RETURNING id, after, scope, blocked`,
    )
    .bind(olderThan, now)
    .all<{ id: string; after: string; scope: string; blocked: string }>();
  return results;
}

/** Retention runs: the step they recorded last (the next job is that step + 1). */
export async function claimStalledMaintenanceRuns(
  d1: D1Database,
  olderThan: number,
  now: number,
): Promise<{ id: string; step: number }[]> {
  const { results } = await d1
    .prepare(
      `UPDATE maintenance_runs SET updated_at = ?2
       WHERE id IN (SELECT id FROM maintenance_runs WHERE status IN ('queued', 'running') AND updated_at < ?1 LIMIT ${SWEEP_LIMIT})
       RETURNING id, coalesce(json_extract(cursor, '$.step'), 0) AS step`,
    )
    .bind(olderThan, now)
    .all<{ id: string; step: number }>();
  return results;
}

/**
 * Background segment work, each step run inside the GraphWriter's lane as a background
 * slice (between ingest groups):
 * - after a segment is created or changed, every profile is evaluated in pages
 *   (one queue message per page, so any number of profiles fits the limits; a page is
 *   evaluated in slices);
 * - the cron job re-evaluates memberships whose time window may have moved.
 */
import { dueRechecks, profilePage, segmentProgressStatement, type SegmentDef } from "../db/queries/segments";
import type { WriterState } from "../graph/writer-state";
import { deliveryInsertStatements } from "../db/queries/webhooks";
import { evaluateSegments } from "./evaluate";

/** Profiles per background job (one queue message). */
export const SEGMENT_PAGE = 500;
/** Profiles per turn in the write lane: a backfill never holds ingestion for longer. */
export const SEGMENT_SLICE = 100;

export interface SegmentJob {
  kind: "segment-evaluate";
  segmentId: string;
  version: number;
  after: string;
  evaluated: number;
}

async function currentDef(d1: D1Database, state: WriterState, job: SegmentJob): Promise<SegmentDef | undefined> {
  let def = (await state.currentConfig(d1)).segments.find((s) => s.id === job.segmentId);
  if (!def || def.version < job.version) {
    state.invalidateConfig(); // the job is newer than what the writer holds
    def = (await state.currentConfig(d1)).segments.find((s) => s.id === job.segmentId);
  }
  return def && def.version === job.version ? def : undefined; // changed since: a newer job runs
}

/**
 * Evaluates one slice of profiles for one segment; the job as it stands after (undefined
 * when stale) and the webhook deliveries it committed.
 */
export async function runSegmentSlice(
  d1: D1Database,
  state: WriterState,
  job: SegmentJob,
  now = Date.now(),
): Promise<{ job: SegmentJob; done: boolean; deliveryIds: string[] } | undefined> {
  const def = await currentDef(d1, state, job);
  if (!def) return undefined;
  const ids = await profilePage(d1, job.after, SEGMENT_SLICE);
  const evaluation = await evaluateSegments(d1, ids, [def], now);
  const deliveries = await state.deliveriesFor(d1, evaluation.transitions, (p) => evaluation.views.get(p));
  const evaluated = job.evaluated + ids.length;
  const done = ids.length < SEGMENT_SLICE;
  const after = ids[ids.length - 1] ?? job.after;
  await d1.batch([...evaluation.statements, ...deliveryInsertStatements(d1, deliveries), segmentProgressStatement(d1, job.segmentId, job.version, evaluated, done, after)]);
  return { job: { ...job, after, evaluated }, done, deliveryIds: deliveries.map((d) => d.id) };
}

/** Re-evaluates profiles whose memberships are due for a recheck: how many, and the webhook deliveries committed. */
export async function runRechecks(d1: D1Database, state: WriterState, now = Date.now(), limit = SEGMENT_SLICE): Promise<{ count: number; deliveryIds: string[] }> {
  const ids = await dueRechecks(d1, now, limit);
  if (ids.length === 0) return { count: 0, deliveryIds: [] };
  const evaluation = await evaluateSegments(d1, ids, (await state.currentConfig(d1)).segments, now);
  const deliveries = await state.deliveriesFor(d1, evaluation.transitions, (p) => evaluation.views.get(p));
  const statements = [...evaluation.statements, ...deliveryInsertStatements(d1, deliveries)];
  if (statements.length > 0) await d1.batch(statements);
  return { count: ids.length, deliveryIds: deliveries.map((d) => d.id) };
}

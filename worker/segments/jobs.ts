/**
 * Background segment work, each step run inside the GraphWriter:
 * - after a segment is created or changed, every profile is evaluated in pages
 *   (one queue message per page, so any number of profiles fits the limits);
 * - the cron job re-evaluates memberships whose time window may have moved.
 */
import { dueRechecks, getSegment, loadSegmentDefs, profilePage, setSegmentProgress } from "../db/queries/segments";
import { createDb } from "../db/client";
import type { Bindings } from "../env";
import { evaluateSegments } from "./evaluate";

export const SEGMENT_PAGE = 500;

export interface SegmentJob {
  kind: "segment-evaluate";
  segmentId: string;
  version: number;
  after: string;
  evaluated: number;
}

/** Evaluates one page of profiles for one segment; returns the next job, if any. */
export async function runSegmentPage(env: Bindings, job: SegmentJob, now = Date.now()): Promise<SegmentJob | undefined> {
  const segment = await getSegment(createDb(env.DB), job.segmentId);
  if (!segment || segment.version !== job.version) return undefined; // changed since: a newer job runs
  const def = (await loadSegmentDefs(env.DB)).find((s) => s.id === job.segmentId)!;
  const ids = await profilePage(env.DB, job.after, SEGMENT_PAGE);
  const evaluation = await evaluateSegments(env.DB, ids, [def], now);
  if (evaluation.statements.length > 0) await env.DB.batch(evaluation.statements);
  const evaluated = job.evaluated + ids.length;
  const done = ids.length < SEGMENT_PAGE;
  await setSegmentProgress(env.DB, job.segmentId, job.version, evaluated, done, ids[ids.length - 1] ?? job.after);
  return done ? undefined : { ...job, after: ids[ids.length - 1]!, evaluated };
}

/** Re-evaluates profiles whose memberships are due for a recheck; returns how many. */
export async function runRechecks(env: Bindings, now = Date.now(), limit = 500): Promise<number> {
  const ids = await dueRechecks(env.DB, now, limit);
  if (ids.length === 0) return 0;
  const evaluation = await evaluateSegments(env.DB, ids, await loadSegmentDefs(env.DB), now);
  if (evaluation.statements.length > 0) await env.DB.batch(evaluation.statements);
  return ids.length;
}


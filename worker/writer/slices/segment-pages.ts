/**
 * Background segment work, each step a background slice in the writer's lane (between
 * ingest groups), so memberships never race an ingest of the same profile:
 * - after a segment is created or changed, every profile is evaluated in pages (one queue
 *   message per page, so any number of profiles fits the limits; a page is evaluated in
 *   slices);
 * - the cron job re-evaluates memberships whose time window may have moved.
 * Both read stored facts and hand them to the commit step, which evaluates them.
 *
 * Host slice: `config` (the segment definitions), `store` (profile pages, facts).
 */
import {
  dueRechecks,
  profilePage,
  type SegmentDef,
  segmentProgressStatement,
} from "../../db/queries/segments";
import { nextShard, type SegmentJob } from "../../model/jobs";
import { factsRead } from "../../segments/evaluate";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";

/** Profiles per background job (one queue message). */
export const SEGMENT_PAGE = 500;
/** Profiles per turn in the write lane: a backfill never holds ingestion for longer. */
export const SEGMENT_SLICE = 100;

async function currentDef(host: WriterHost, job: SegmentJob): Promise<SegmentDef | undefined> {
  let def = (await host.config.current()).segments.find((s) => s.id === job.segmentId);
  if (!def || def.version < job.version) {
    host.config.invalidate(); // the job is newer than what the writer holds
    def = (await host.config.current()).segments.find((s) => s.id === job.segmentId);
  }
  return def && def.version === job.version ? def : undefined; // changed since: a newer job runs
}

/** One slice of profiles for one segment: the job as it stands after, or undefined when stale. */
export async function segmentSlice(
  host: WriterHost,
  job: SegmentJob,
  now: number,
): Promise<{ job: SegmentJob; done: boolean; slice: SliceResult } | undefined> {
  const def = await currentDef(host, job);
  if (!def) return undefined;
  const sql = host.store.sql;
  const ids = await profilePage(sql, job.after, SEGMENT_SLICE);
  const { facts } = await host.store.read({ facts: factsRead(sql, ids, [def], now) });
  const evaluated = job.evaluated + ids.length;
  const walk = ids.length < SEGMENT_SLICE ? nextShard(job.walk) : job.walk;
  const done = ids.length < SEGMENT_SLICE && !walk;
  // The next shard starts from its beginning.
  const after = walk !== job.walk ? "" : (ids[ids.length - 1] ?? job.after);
  return {
    job: { ...job, after, evaluated, ...(walk ? { walk } : {}) },
    done,
    slice: {
      statements: [],
      activation: [],
      evaluate: { profileIds: ids, segments: [def], facts, now },
      trailing: [segmentProgressStatement(sql, job.segmentId, job.version, evaluated, done, after)],
    },
  };
}

/** Profiles whose memberships are due for a recheck (undefined when none is). */
export async function recheckSlice(
  host: WriterHost,
  now: number,
  limit = SEGMENT_SLICE,
): Promise<{ count: number; slice: SliceResult } | undefined> {
  const sql = host.store.sql;
  const ids = await dueRechecks(sql, now, limit);
  if (ids.length === 0) return undefined;
  const { segments } = await host.config.current();
  const { facts } = await host.store.read({ facts: factsRead(sql, ids, segments, now) });
  return {
    count: ids.length,
    slice: { statements: [], activation: [], evaluate: { profileIds: ids, segments, facts, now } },
  };
}

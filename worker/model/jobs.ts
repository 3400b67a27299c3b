/**
 * The contracts of background work: what a queue message carries, and what a retention
 * step hands the writer. Plain types with no imports from the rest of the worker, so the
 * code that sends a job and the code that runs it meet here instead of importing each other.
 */

/**
 * With several owner shards, a walk over every profile or identity (a segment's or a
 * computed attribute's evaluation, a graph run) visits the shards one after another: a
 * job's cursor is within `shard`, and the walk is done after the last one's last page.
 * Absent: the walk is at shard 0 of a deployment the client had not told (one shard).
 */
export interface ShardWalk {
  shard: number;
  shards: number;
}

/** After a shard's last page: where the walk goes on, or undefined when that was the last shard. */
export function nextShard(walk: ShardWalk | undefined): ShardWalk | undefined {
  return walk && walk.shard + 1 < walk.shards ? { ...walk, shard: walk.shard + 1 } : undefined;
}

/** One page of a segment's background evaluation (`JOBS_QUEUE`). */
export interface SegmentJob {
  kind: "segment-evaluate";
  segmentId: string;
  version: number;
  after: string;
  evaluated: number;
  walk?: ShardWalk;
}

/** One page of a computed attribute's background computation (`JOBS_QUEUE`); `after` is an identity id. */
export interface ComputedJob {
  kind: "computed-backfill";
  attributeId: string;
  version: number;
  after: number;
  computed: number;
  walk?: ShardWalk;
}

/** One page of a graph run: a configuration change applied to (or reverted on) existing graphs (`JOBS_QUEUE`). */
export interface GraphRunJob {
  kind: "graph-run";
  runId: string;
  /** The last profile id done. */
  after: string;
  /** The graphs it walks, and values the change newly blocks (the run's own record is D1's, not the writer's). */
  scope: { namespace?: string };
  blocked: Record<string, string[]>;
  walk?: ShardWalk;
}

/** One step of a maintenance (retention) run (`JOBS_QUEUE`). */
export interface MaintenanceJob {
  kind: "maintenance";
  runId: string;
  step: number;
}

/** Where a maintenance run got to. */
export interface MaintenanceCursor {
  step: number;
  phase: "events" | "profiles" | "done";
  /** Datasets with a TTL still to do (names), the first being worked on. */
  datasets: string[];
  part: number;
  after: string;
  /** The run's clock: every cutoff is measured from when it started. */
  now: number;
  date: string;
  /** The profiles phase's walk over the shards (several shards only). */
  walk?: ShardWalk;
}

/** One file an export or an archive wrote. */
export interface PartInfo {
  name: string;
  /** The object key. */
  path?: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * A step's progress, written by the writer in the same batch as the step's deletions: the
 * run's cursor after the step and its counts before it (the slice adds what it removed).
 */
export interface StepProgress {
  runId: string;
  cursor: MaintenanceCursor;
  counts: { eventsExpired: number; eventsArchived: number; profilesExpired: number };
  parts: PartInfo[];
}

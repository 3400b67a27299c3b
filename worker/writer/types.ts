/** What the writer's methods answer (and the test seams' shapes): Worker code may import these. */
import type { EraseCounts } from "../db/queries/erase";
import type { GraphEffect } from "../graph/effect";
import type { GraphRules } from "../graph/workspace";
import type { IngestCommand, ItemOutcome } from "../ingest/types";
import type { IdentityRef } from "../model/graph";
import type { ComputedJob, GraphRunJob, SegmentJob, StepProgress } from "../model/jobs";
import type { MoveStatus } from "./move";

/** A dry run's answer: the outcomes the call would have, and what it would do to the graphs. */
export interface DryRunApplied {
  outcomes: ItemOutcome[];
  profiles: string[];
  effect: GraphEffect;
}

/** One ingest call's answer. */
export interface CallResult {
  outcomes: ItemOutcome[];
  /** Profiles the call's accepted items belong to, right after the call. */
  profiles: string[];
}

/**
 * A shard's answer to a write on identities it does not hold (several shards only): they
 * `moved` to another shard (the client looks again), or a cross-shard transaction holds
 * them (`wait`, then send again).
 */
export interface Relocated {
  relocate: "moved" | "wait";
}

export const isRelocated = (value: unknown): value is Relocated =>
  typeof value === "object" && value !== null && "relocate" in value;

/** An answer with the `Tessera-Consistency` token of the state it left (SPEC §6). */
export interface Consistent<T> {
  value: T;
  consistency: string;
}

/** What one ingest call gets back, with how its group went (for Server-Timing and the bench). */
export interface IngestApplied extends CallResult {
  /** The `Tessera-Consistency` token for the call's answer (set once D1 holds the commit). */
  consistency?: string;
  lane: {
    /** Calls and items in the group this call was committed with. */
    group: number;
    items: number;
    /** Store round trips the group made. */
    roundTrips: number;
    /** Milliseconds per step of the group. */
    phases: Record<string, number>;
    /** The group's position in the writer's commit log (absent when D1 holds the graph). */
    seq?: number;
  };
  /**
   * Set when a shard did not apply the call: `coordinator` — it names identities living on
   * other shards; `shard` — all of them live on `shard`; `wait` — a cross-shard transaction
   * holds one of them (send it again).
   */
  forward?: "coordinator" | "shard" | "wait";
  shard?: number;
}

export interface DeleteResult {
  found: boolean;
  /** The profile the identity (or link) belonged to before. */
  profileId?: string;
  /** The profiles its graph became. */
  profiles: string[];
}

export interface EraseReceipt {
  profileId: string;
  erased: EraseCounts;
  suppressed: boolean;
}

/** Group commit figures since the object started (for the bench). */
export interface LaneFigures {
  groups: number;
  calls: number;
  retriedGroups: number;
  sizes: [number, number][];
  /** D1 round trips the writer made (config loads; the graph's own store, in `d1` mode; the projection). */
  roundTrips: number;
  /** Where the graph's truth is (`moving`: D1, while it is copied into the writer's SQLite). */
  store: "local" | "d1" | "moving";
  /** The move's progress, while the store is `moving`. */
  move?: MoveStatus;
  /** Rows (table and index entries) the writer's own SQLite has written. */
  localRowsWritten: number;
  /** The D1 projection: last committed and applied log positions, and recent commit-to-applied lags (ms). */
  projection?: { committedSeq: number; appliedSeq: number; lagMs: number[] };
}

/**
 * Test seam: what was committed, in commit order. `order` is a counter every writer and the
 * coordinator share when they run in one isolate (locally they do), so the journals of all
 * shards merge into one order of commit points.
 */
export type JournalEntry = (
  | { kind: "ingest"; command: IngestCommand }
  | { kind: "deleteIdentity" | "deleteLink" | "erase"; refs: IdentityRef[] }
) & { order?: number };

let commitPoints = 0;
/** The next commit point's number (see `JournalEntry`). */
export const commitPoint = (): number => ++commitPoints;

export interface GroupHooks {
  /** Test seam: runs before an ingest group's write (throw to simulate a failed write, wait to hold the lane). */
  beforePersist?: (calls: readonly IngestCommand[]) => void | Promise<void>;
  /** Test seam: runs before a cross-shard prepare (throw: the request is lost). */
  beforePrepare?: (tx: number) => void;
  /** Test seam: runs after a cross-shard commit was applied (throw: its answer is lost). */
  afterCommitTx?: (tx: number) => void;
}

/**
 * What the writer offers Worker code (the façade implements it). The test seams
 * (`hooks`, `journal`) are deliberately not part of it: tests reach them through
 * `runInDurableObject`.
 */
export interface GraphWriterApi {
  /** One ingest call, committed with the group it joins. */
  ingest(command: IngestCommand): Promise<IngestApplied>;
  /** What an ingest call would do, and its effect on the graphs; nothing is written. */
  dryRun(command: IngestCommand): Promise<DryRunApplied>;
  /**
   * What a configuration change would do to existing graphs in a scope; nothing is written.
   * `examined`: the profiles in scope it looked at (at most the scope's limit).
   */
  previewConfig(
    rules: GraphRules,
    blocked: Record<string, string[]>,
    scope: { identities?: IdentityRef[]; namespace?: string; limit?: number },
  ): Promise<GraphEffect & { examined: number }>;
  deleteIdentity(ref: IdentityRef): Promise<Consistent<DeleteResult> | Relocated>;
  deleteLink(from: IdentityRef, to: IdentityRef): Promise<Consistent<DeleteResult> | Relocated>;
  /** Privacy erase; undefined when the identity is unknown. */
  erase(
    ref: IdentityRef,
    suppress: boolean,
  ): Promise<Consistent<EraseReceipt | undefined> | Relocated>;
  /** One page of a segment's evaluation; the next job, or undefined when done (or stale). */
  segmentPage(job: SegmentJob): Promise<SegmentJob | undefined>;
  /** One page of a graph run; the next job, or undefined when done. */
  graphRunPage(job: GraphRunJob): Promise<GraphRunJob | undefined>;
  /** One page of a computed attribute's background computation; the next job, or undefined when done (or stale). */
  computedPage(job: ComputedJob): Promise<ComputedJob | undefined>;
  /** Deletes these events where this writer holds them; `progress` (the step's record) goes in the same write. */
  expireEvents(
    eventIds: string[],
    now: number,
    progress: StepProgress | undefined,
  ): Promise<{ deleted: number }>;
  expireProfiles(
    cutoff: number,
    after: string,
    now: number,
    progress: StepProgress,
  ): Promise<{ checked: number; expired: number; after: string }>;
  /** One slice of cron rechecks; how many profiles (segment windows) and identities (computed windows) were re-evaluated. */
  rechecks(now: number): Promise<number>;
  /** Lifts a suppression by its hash; false when there was none. */
  liftSuppression(hash: string): Promise<Consistent<boolean>>;
  /** Resolves once D1 holds commit `seq` (a read presenting a token without a bookmark waits here). */
  awaitProjection(seq: number): Promise<void>;
  /** This writer as an owner shard (counts from its own store). */
  shardFigures(): Promise<ShardFigures>;
  /** Configuration changed: the next write reloads it. */
  configChanged(): void;
  laneStats(): LaneFigures;
}

/** One owner shard as `GET /v1/admin/shards` shows it (SPEC §6). */
export interface ShardFigures {
  id: number;
  buckets: number;
  profiles: number;
  identities: number;
  /** Bytes of the shard's own SQLite. */
  bytes: number;
  /** Its last commit's position in its log. */
  seq: number;
  /** Milliseconds since the oldest commit D1 does not hold yet (0: the projection is current). */
  projectionLag: number;
  /** Where its graph's truth is (`moving`: still D1, while it is copied). */
  store: "local" | "d1" | "moving";
  /** Rows (table and index entries) written since the object started, by its own SQLite and by D1 applying its log. */
  rowsWritten: { shard: number; projection: number };
  move?: { phase: string; pass: number; copied: number };
}

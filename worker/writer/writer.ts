/**
 * The single writer of the identity graph (SPEC rule 6: concurrency never loses a link).
 *
 * A graph change is read → compute → write, and D1 has no interactive transactions, so
 * every change runs here, in one Durable Object, through one `WriteLane`: calls that arrive
 * while a group is being written form the next group, which is read once, applied in
 * memory in arrival order, and committed in one atomic write. Exclusive operations
 * (deletes, erasures) and background slices (segment pages, rechecks, retention) take the
 * same lane. Every slice ends in the one commit step (`commit.ts`): segment transitions,
 * activation facts and the webhook outbox are written with the change, and the deliveries
 * are announced after it.
 *
 * The graph's truth is the object's own SQLite (`state.ts` chooses the store): a group's
 * load and commit are local and synchronous, so the lane holds no network round trip. D1's
 * graph tables are a projection of the commit log (`projection.ts`), applied outside the
 * lane; a call is answered once D1 holds its commit, so every read after it sees it.
 *
 * This class is the façade only: RPC methods, the lane, announce, and the test seams.
 * Worker code reaches it through `client.ts`.
 */
import { DurableObject } from "cloudflare:workers";
import type { GraphEffect } from "../graph/effect";
import type { GraphRules } from "../graph/workspace";
import type { IngestCommand } from "../ingest/types";
import { formatToken } from "../lib/consistency";
import { benchDelayMs, type MeteredD1, meterD1 } from "../lib/d1-latency";
import { timerTurn } from "../lib/timer-turn";
import type { Bindings } from "../model/bindings";
import type { IdentityRef } from "../model/graph";
import type { ComputedJob, GraphRunJob, SegmentJob, StepProgress } from "../model/jobs";
import { BUCKETS } from "../shards/placement"; // with one shard, every bucket is its own
import type { WebhookMessage } from "../webhooks/send";
import { commitSlice, type SliceResult } from "./commit";
import type { WriterHost } from "./host";
import { WriteLane } from "./lane";
import type { Projection } from "./projection";
import {
  COMPUTED_PAGE,
  COMPUTED_SLICE,
  computedRecheckSlice,
  computedSlice,
} from "./slices/computed";
import { eraseSlice, liftSuppressionSlice } from "./slices/erase";
import { deleteIdentitySlice, deleteLinkSlice } from "./slices/graph-deletes";
import {
  GRAPH_RUN_PAGE,
  GRAPH_RUN_SLICE,
  graphRunSlice,
  type PreviewScope,
  previewSlice,
} from "./slices/graph-preview";
import { dryRunGroup, ingestGroup, stopwatch } from "./slices/ingest-group";
import { expireEventsSlice, expireProfilesSlice } from "./slices/retention";
import { recheckSlice, SEGMENT_PAGE, SEGMENT_SLICE, segmentSlice } from "./slices/segment-pages";
import { type OpenedWriter, openWriter, recordMode } from "./state";
import type {
  Consistent,
  DeleteResult,
  DryRunApplied,
  EraseReceipt,
  GraphWriterApi,
  GroupHooks,
  IngestApplied,
  JournalEntry,
  LaneFigures,
  ShardFigures,
} from "./types";

/** Items per group: one group's write stays far below D1's 30 s and the Worker's memory. */
const MAX_GROUP_ITEMS = 5_000;
/** Commits that may wait for D1 before the next group starts (see Projection.backlogAtMost). */
const PROJECTION_BACKLOG = 1;

export class GraphWriter extends DurableObject<Bindings> implements GraphWriterApi {
  private readonly d1: MeteredD1;
  private opened!: OpenedWriter;
  private readonly lane: WriteLane<IngestCommand, IngestApplied>;
  /** The last commit's position in the log (what a caller waits for before its answer). */
  private lastSeq: number | undefined;
  /** The running move loop, if any. */
  private moving?: Promise<void>;
  /** Test seams (set through `runInDurableObject`): group hooks, and a journal of what was committed, in commit order. */
  hooks: GroupHooks = {};
  journal?: JournalEntry[];

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.d1 = meterD1(env.DB, benchDelayMs(env));
    this.lane = new WriteLane((commands) => this.ingestGroup(commands), {
      maxGroupItems: MAX_GROUP_ITEMS,
      sizeOf: (c) => c.items.length,
      pace: () => this.projection?.backlogAtMost(PROJECTION_BACKLOG) ?? Promise.resolve(),
    });
    void ctx
      .blockConcurrencyWhile(async () => {
        this.opened = await openWriter(ctx.storage, env, this.d1);
      })
      // Outside the critical section: requests keep arriving while the graph moves.
      .then(() => this.continueMove());
  }

  /**
   * A graph still in D1 moves into the object's own SQLite in background slices between
   * groups (`move.ts`), then flips alone in the lane. The alarm restarts this loop after an
   * eviction or a restart; it stops once the store is local (or the move is stuck).
   */
  private continueMove(): void {
    if (this.opened.mode !== "moving") return;
    // Re-armed on every call (the alarm calls this too), so an evicted object resumes the move.
    this.ctx.storage.setAlarm(Date.now() + 30_000).catch(() => undefined);
    if (this.moving) return;
    this.moving = (async () => {
      while (this.opened.mode === "moving" && this.opened.move!.status.phase !== "stuck") {
        const ready = await this.lane.runInBackground(() => this.opened.move!.step());
        await timerTurn(); // new requests start between slices
        if (ready) await this.lane.runExclusive(() => this.flipToLocal());
      }
    })()
      .catch((err) =>
        console.error(`graph move: paused after an error (the alarm resumes it): ${err}`),
      )
      .finally(() => (this.moving = undefined));
  }

  /** The end of a move: the local copy becomes the truth and D1 its projection from commit 1 on. */
  private async flipToLocal(): Promise<void> {
    const move = this.opened.move!;
    if (!(await move.countsAgree())) return;
    await move.finish(Date.now());
    await this.d1.db
      .prepare(
        "INSERT OR REPLACE INTO projection_state (id, applied_seq, updated_at) VALUES (1, 0, ?1)",
      )
      .bind(Date.now())
      .run();
    recordMode(this.ctx.storage, "local");
    this.opened = await openWriter(this.ctx.storage, this.env, this.d1);
    console.log(
      `graph move: done — the graph is in the writer's own SQLite (${move.status.copied} rows copied, ${move.status.pass} verify passes)`,
    );
  }

  private get host(): WriterHost {
    return this.opened.host;
  }

  private get projection(): Projection | undefined {
    return this.opened.projection;
  }

  async ingest(command: IngestCommand): Promise<IngestApplied> {
    const applied = await this.lane.submit(command);
    return { ...applied, consistency: await this.settled(applied.lane.seq) };
  }

  /**
   * What an ingest call would do (SPEC §9 `dryRun`): its outcomes and its effect on the
   * graphs, applied in the lane to the current state and then dropped — nothing is written.
   */
  async dryRun(command: IngestCommand): Promise<DryRunApplied> {
    const { result, effect } = await this.lane.runExclusive(() => dryRunGroup(this.host, command));
    return { outcomes: result.outcomes, profiles: result.profiles, effect };
  }

  /** What a configuration change would do to existing graphs in `scope` (SPEC §9 preview); nothing is written. */
  previewConfig(
    rules: GraphRules,
    blocked: Record<string, string[]>,
    scope: PreviewScope,
  ): Promise<GraphEffect> {
    return this.lane.runExclusive(() => previewSlice(this.host, rules, blocked, scope, Date.now()));
  }

  /**
   * A signed-in visitor's device seen with their identity (`/v1/context`): links them in
   * the next group. Returns the person's profile id, or undefined when the identity is
   * suppressed.
   */
  async linkDevice(device: string, identity: IdentityRef, at: number): Promise<string | undefined> {
    const applied = await this.ingest({
      items: [
        {
          index: 0,
          kind: "link",
          dataset: "web",
          identities: [identity, { namespace: "device", value: device }],
          at,
        },
      ],
      atomic: true,
      receivedAt: at,
    });
    const outcome = applied.outcomes[0];
    return outcome?.status === "accepted" ? outcome.profileId : undefined;
  }

  deleteIdentity(ref: IdentityRef): Promise<Consistent<DeleteResult>> {
    return this.exclusive({ kind: "deleteIdentity", refs: [ref] }, async () => {
      const { answer, slice } = await deleteIdentitySlice(this.host, ref, Date.now());
      if (slice) await this.commit(slice);
      return answer;
    });
  }

  deleteLink(from: IdentityRef, to: IdentityRef): Promise<Consistent<DeleteResult>> {
    return this.exclusive({ kind: "deleteLink", refs: [from, to] }, async () => {
      const { answer, slice } = await deleteLinkSlice(this.host, from, to, Date.now());
      if (slice) await this.commit(slice);
      return answer;
    });
  }

  erase(ref: IdentityRef, suppress: boolean): Promise<Consistent<EraseReceipt | undefined>> {
    return this.exclusive({ kind: "erase", refs: [ref] }, async () => {
      const erased = await eraseSlice(this.host, ref, suppress, Date.now());
      if (erased) await this.commit(erased.slice);
      return erased?.receipt;
    });
  }

  /**
   * One page of a segment's background evaluation, as slices between ingest groups
   * (memberships are written here too, so they never race an ingest of the same profile).
   */
  segmentPage(job: SegmentJob): Promise<SegmentJob | undefined> {
    return this.page(job, SEGMENT_PAGE / SEGMENT_SLICE, (from) =>
      segmentSlice(this.host, from, Date.now()),
    );
  }

  /** One page of a graph run (a configuration change applied to existing graphs, or reverted), as slices between ingest groups. */
  graphRunPage(job: GraphRunJob): Promise<GraphRunJob | undefined> {
    return this.page(job, GRAPH_RUN_PAGE / GRAPH_RUN_SLICE, (from) =>
      graphRunSlice(this.host, from, Date.now()),
    );
  }

  /** One page of a computed attribute's background computation, as slices between ingest groups. */
  computedPage(job: ComputedJob): Promise<ComputedJob | undefined> {
    return this.page(job, COMPUTED_PAGE / COMPUTED_SLICE, (from) =>
      computedSlice(this.host, from, Date.now()),
    );
  }

  /** Up to `slices` background slices of a paged job; the job as it stands after, or undefined when done (or stale). */
  private async page<J>(
    job: J,
    slices: number,
    next: (from: J) => Promise<{ job: J; done: boolean; slice: SliceResult } | undefined>,
  ): Promise<J | undefined> {
    let current: J | undefined = job;
    for (let n = 0; current !== undefined && n < slices; n++) {
      const from: J = current;
      const step = await this.background(async () => {
        const page = await next(from);
        if (page) await this.commit(page.slice);
        return page;
      });
      current = step && !step.done ? step.job : undefined;
      await timerTurn(); // ingest calls that arrived during the slice reach the lane before the next one
    }
    return current;
  }

  /** Retention: one step's expired events deleted, and the segments that counted them re-evaluated. */
  expireEvents(
    eventIds: string[],
    now: number,
    progress: StepProgress,
  ): Promise<{ deleted: number }> {
    return this.background(async () => {
      const { deleted, slice } = await expireEventsSlice(this.host, eventIds, now, progress);
      if (slice) await this.commit(slice);
      return { deleted };
    });
  }

  /** Retention: one page of profiles checked for pseudonymous expiry. */
  expireProfiles(
    cutoff: number,
    after: string,
    now: number,
    progress: StepProgress,
  ): Promise<{ checked: number; expired: number; after: string }> {
    return this.background(async () => {
      const { slice, ...outcome } = await expireProfilesSlice(
        this.host,
        cutoff,
        after,
        now,
        progress,
      );
      await this.commit(slice);
      return outcome;
    });
  }

  /** One slice of cron rechecks (segment windows, then computed windows); returns how many profiles and identities it re-evaluated. */
  async rechecks(now: number): Promise<number> {
    const segments = await this.background(async () => {
      const due = await recheckSlice(this.host, now);
      if (due) await this.commit(due.slice);
      return due?.count ?? 0;
    });
    const computed = await this.background(async () => {
      const due = await computedRecheckSlice(this.host, now);
      if (due) await this.commit(due.slice);
      return due?.count ?? 0;
    });
    return segments + computed;
  }

  /** Lifts a suppression (by its hash): the identity may be ingested again. False when there was none. */
  liftSuppression(hash: string): Promise<Consistent<boolean>> {
    return this.exclusive(undefined, async () => {
      const lifted = await liftSuppressionSlice(this.host, hash);
      if (lifted) await this.commit(lifted);
      return lifted !== undefined;
    });
  }

  /** Namespaces, graph settings, segments or destinations changed: the next write reloads them. */
  configChanged(): void {
    this.host.config.invalidate();
  }

  /** Group commit figures since the object started (for the bench). */
  laneStats(): LaneFigures {
    const s = this.lane.stats;
    const projection = this.projection?.figures();
    return {
      groups: s.groups,
      calls: s.calls,
      retriedGroups: s.retriedGroups,
      sizes: [...s.sizes].sort((a, b) => a[0] - b[0]),
      roundTrips: this.d1.roundTrips(),
      store: this.opened.mode,
      ...(this.opened.move ? { move: this.opened.move.status } : {}),
      localRowsWritten: this.opened.localRowsWritten(),
      projection: projection
        ? {
            committedSeq: projection.committedSeq,
            appliedSeq: projection.appliedSeq,
            lagMs: projection.lagMs,
          }
        : undefined,
    };
  }

  async shardFigures(): Promise<ShardFigures> {
    const { mode, move } = this.opened;
    // Counted where the truth is: the object's own SQLite, or D1 until the graph has moved.
    const count = async (table: string) =>
      mode === "local"
        ? this.ctx.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n
        : ((await this.env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<number>("n")) ??
          0);
    return {
      id: 0,
      buckets: BUCKETS,
      profiles: await count("profiles"),
      identities: await count("identities"),
      bytes: this.ctx.storage.sql.databaseSize,
      seq: this.projection?.figures().committedSeq ?? 0,
      projectionLag: this.projection?.lagMs(Date.now()) ?? 0,
      store: mode,
      rowsWritten: {
        shard: this.opened.localRowsWritten() + (this.projection?.logRowsWritten ?? 0),
        projection: this.projection?.rowsWritten ?? 0,
      },
      ...(move
        ? { move: { phase: move.status.phase, pass: move.status.pass, copied: move.status.copied } }
        : {}),
    };
  }

  /** The alarm wakes a restarted object to finish applying the log to D1, or to go on moving the graph. */
  override async alarm(): Promise<void> {
    this.continueMove();
    await this.projection?.alarm();
  }

  private async ingestGroup(commands: IngestCommand[]): Promise<IngestApplied[]> {
    const before = this.d1.roundTrips();
    const clock = stopwatch();
    const { results, slice } = await ingestGroup(this.host, commands, clock);
    await this.commit(slice, () => this.hooks.beforePersist?.(commands));
    clock.lap("persist");
    this.journal?.push(...commands.map((command): JournalEntry => ({ kind: "ingest", command })));
    const lane = {
      group: commands.length,
      items: commands.reduce((n, c) => n + c.items.length, 0),
      roundTrips: this.d1.roundTrips() - before,
      phases: clock.phases,
      seq: this.lastSeq,
    };
    return results.map((r) => ({ ...r, lane }));
  }

  /**
   * Every slice's write goes through here: the one commit step, then the announce — once
   * D1 holds the deliveries, since the webhooks consumer reads them there.
   */
  private async commit(
    slice: SliceResult,
    beforeWrite?: () => void | Promise<void>,
  ): Promise<void> {
    const { deliveryIds, seq } = await commitSlice(this.host, slice, beforeWrite);
    if (seq !== undefined) this.lastSeq = seq;
    if (deliveryIds.length === 0) return;
    if (this.projection) this.projection.onApplied(seq, () => this.announce(deliveryIds));
    else this.announce(deliveryIds);
  }

  /**
   * Tells the webhooks consumer about committed deliveries, without holding the lane: if
   * the message is lost (a crash right here), the cron sweep sends them.
   */
  private announce(ids: string[]): void {
    for (let i = 0; i < ids.length; i += 50) {
      this.env.WEBHOOK_QUEUE.send({
        kind: "webhook-deliver",
        ids: ids.slice(i, i + 50),
      } satisfies WebhookMessage).catch((err) =>
        console.error(`webhook announce failed (the cron sweep will send): ${err}`),
      );
    }
  }

  /** Runs alone in the lane; answers once D1 holds what it committed, with the token for it. */
  private async exclusive<T>(
    entry: JournalEntry | undefined,
    run: () => Promise<T>,
  ): Promise<Consistent<T>> {
    const result = await this.lane.runExclusive(async () => {
      const value = await run();
      if (entry) this.journal?.push(entry);
      return { value, seq: this.lastSeq };
    });
    return { value: result.value, consistency: await this.settled(result.seq) };
  }

  /**
   * Waits until D1 holds commit `seq`, and answers the `Tessera-Consistency` token for the
   * state the caller has seen (the last commit when its own wrote nothing).
   */
  private async settled(seq: number | undefined): Promise<string> {
    const bookmark = await this.projection?.waitFor(seq ?? this.lastSeq);
    return formatToken({
      shard: 0,
      seq: seq ?? this.lastSeq ?? 0,
      ...(bookmark ? { bookmark } : {}),
    });
  }

  /** Test and read-path seam: resolves once D1 holds commit `seq` (bounded; see Projection.waitFor). */
  async awaitProjection(seq: number): Promise<void> {
    await this.projection?.waitFor(seq);
  }

  /** Runs between ingest groups; answers once D1 holds what it committed. */
  private async background<T>(run: () => Promise<T>): Promise<T> {
    const result = await this.lane.runInBackground(async () => ({
      value: await run(),
      seq: this.lastSeq,
    }));
    await this.projection?.waitFor(result.seq);
    return result.value;
  }
}

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
import { identityKey } from "../../shared/identity/normalize";
import type { GraphEffect } from "../graph/effect";
import type { GraphRules } from "../graph/workspace";
import { commandKeys } from "../ingest/command-keys";
import type { IngestCommand } from "../ingest/types";
import { formatToken } from "../lib/consistency";
import { benchDelayMs, benchItemMs, type MeteredD1, meterD1 } from "../lib/d1-latency";
import { sleep, timerTurn } from "../lib/timer-turn";
import type { Bindings } from "../model/bindings";
import type { IdentityRef } from "../model/graph";
import type { ComputedJob, GraphRunJob, SegmentJob, ShardWalk, StepProgress } from "../model/jobs";
import { bucketRanges } from "../shards/directory";
import {
  abort,
  commit,
  type Key,
  localPlacement,
  type PrepareReply,
  prepare,
  type ShardActions,
  type TxId,
} from "../shards/protocol";
import type { WebhookMessage } from "../webhooks/send";
import { commitSlice, type SliceResult } from "./commit";
import type { WriterHost } from "./host";
import { WriteLane } from "./lane";
import type { Projection } from "./projection";
import type { ComponentRows } from "./shards/component-rows";
import { shardOfName, writerName } from "./shards/names";
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
  Relocated,
  ShardFigures,
} from "./types";
import { commitPoint, isRelocated } from "./types";

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

  /** Which owner shard this object is (0 when the deployment has one writer). */
  private readonly shard: number;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.shard = shardOfName(ctx.id.name);
    this.d1 = meterD1(env.DB, benchDelayMs(env));
    this.lane = new WriteLane((commands) => this.ingestGroup(commands), {
      maxGroupItems: MAX_GROUP_ITEMS,
      sizeOf: (c) => c.items.length,
      pace: () => this.projection?.backlogAtMost(PROJECTION_BACKLOG) ?? Promise.resolve(),
    });
    void ctx
      .blockConcurrencyWhile(async () => {
        this.opened = await openWriter(ctx.storage, env, this.d1, this.shard);
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
    this.opened = await openWriter(this.ctx.storage, this.env, this.d1, this.shard);
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
    if (applied.forward) return applied;
    return { ...applied, consistency: await this.settled(applied.lane.seq) };
  }

  // ---- this writer as an owner shard: its side of a coordinator's transaction ----------------

  /**
   * Freezes the components holding `keys` and reserves the new keys whose index is here, for
   * `tx`. Alone in the lane, after D1 holds every commit before it: the coordinator's
   * decision reaches D1 after everything these components were.
   */
  prepare(tx: TxId, keys: Key[]): Promise<PrepareReply<ComponentRows>> {
    return this.lane.runExclusive(async () => {
      this.hooks.beforePrepare?.(tx);
      const projection = this.projection;
      if (projection) {
        await projection.waitFor(this.lastSeq);
        // Bounded wait: if D1 is still behind, refuse (the coordinator asks again, or gives up).
        const { appliedSeq, committedSeq } = projection.figures();
        if (appliedSeq < committedSeq) throw new Error("prepare refused: D1 is behind this shard");
      }
      return prepare(this.opened.participant, this.opened.deployment.placement, tx, keys);
    });
  }

  /** Installs and removes what the coordinator decided for `tx`, and lets its freezes go. */
  commitTx(tx: TxId, actions: ShardActions<ComponentRows>): Promise<"committed" | "already"> {
    return this.lane.runExclusive(async () => {
      const answer = commit(this.opened.participant, tx, actions);
      this.hooks.afterCommitTx?.(tx);
      return answer;
    });
  }

  abortTx(tx: TxId): Promise<"aborted" | "committed"> {
    return this.lane.runExclusive(async () => abort(this.opened.participant, tx));
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
  ): Promise<GraphEffect & { examined: number }> {
    return this.lane.runExclusive(() => previewSlice(this.host, rules, blocked, scope, Date.now()));
  }

  deleteIdentity(ref: IdentityRef): Promise<Consistent<DeleteResult> | Relocated> {
    return this.ownedExclusive({ kind: "deleteIdentity", refs: [ref] }, async () => {
      const { answer, slice } = await deleteIdentitySlice(this.host, ref, Date.now());
      if (slice) await this.commit(slice);
      return { value: answer, gone: answer.found ? [identityKey(ref.namespace, ref.value)] : [] };
    });
  }

  deleteLink(from: IdentityRef, to: IdentityRef): Promise<Consistent<DeleteResult> | Relocated> {
    return this.ownedExclusive({ kind: "deleteLink", refs: [from, to] }, async () => {
      const { answer, slice } = await deleteLinkSlice(this.host, from, to, Date.now());
      if (slice) await this.commit(slice);
      return { value: answer, gone: [] };
    });
  }

  erase(
    ref: IdentityRef,
    suppress: boolean,
  ): Promise<Consistent<EraseReceipt | undefined> | Relocated> {
    return this.ownedExclusive({ kind: "erase", refs: [ref] }, async () => {
      const { participant, deployment } = this.opened;
      // With several shards, the index shards of the erased identities are told (after).
      const profileId =
        deployment.shards > 1
          ? participant.ownerOf(identityKey(ref.namespace, ref.value))
          : undefined;
      const keys = profileId ? participant.keysOf(profileId) : [];
      const erased = await eraseSlice(this.host, ref, suppress, Date.now());
      if (erased) await this.commit(erased.slice);
      if (!erased || !suppress) return { value: erased?.receipt, gone: erased ? keys : [] };
      const hash = await this.host.suppression.hasher();
      const rows = await Promise.all(
        keys.map(
          async (k) =>
            [await hash(k), k.slice(0, k.indexOf(":")), erased.receipt.profileId] as [
              string,
              string,
              string,
            ],
        ),
      );
      return { value: erased.receipt, gone: keys, suppressions: rows };
    });
  }

  // ---- the identity index, for writes that removed identities on another shard --------------

  /** Which shard holds the component of `key`, as far as this shard (its index shard, or its owner) knows. */
  locate(key: Key): number | undefined {
    const { participant, deployment } = this.opened;
    if (participant.ownerOf(key) !== undefined) return this.shard;
    const entry = participant.indexEntry(key);
    const home = entry?.state === "live" ? deployment.placement.ownerOf(entry.home) : undefined;
    return home === this.shard ? undefined : home; // pointing here but held by none: gone
  }

  /**
   * Identities removed by their owner (deleted or erased) whose index is here: their entries
   * go, and an erase's suppressions are kept here too, where a new claim of them is checked.
   * Local only: D1 has the owner's copy.
   */
  releaseIndex(keys: Key[], suppressions: [string, string, string][], now: number): Promise<void> {
    return this.lane.runExclusive(async () => {
      const { participant } = this.opened;
      this.ctx.storage.transactionSync(() => {
        for (const key of keys)
          if (participant.indexEntry(key)?.state === "live")
            participant.setIndexEntry(key, undefined);
        for (const [hash, namespace, profileId] of suppressions)
          this.ctx.storage.sql.exec(
            "INSERT OR IGNORE INTO suppressions (hash, namespace, profile_id, created_at) VALUES (?, ?, ?, ?)",
            hash,
            namespace,
            profileId,
            now,
          );
      });
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
  private async page<J extends { walk?: ShardWalk }>(
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
      // The walk went on to the next shard: the client sends the job there.
      if (current?.walk && current.walk.shard !== this.shard) return current;
      await timerTurn(); // ingest calls that arrived during the slice reach the lane before the next one
    }
    return current;
  }

  /** Retention: one step's expired events deleted, and the segments that counted them re-evaluated. */
  expireEvents(
    eventIds: string[],
    now: number,
    progress: StepProgress | undefined,
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
    return this.exclusive(async () => {
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
      id: this.shard,
      buckets: bucketRanges(this.opened.deployment.directory, this.shard).reduce(
        (n, [first, last]) => n + last - first + 1,
        0,
      ),
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

  /**
   * With several shards, a call applies here only when every identity it names lives here or
   * is new with its index bucket here (design/scale-out.md §3.6); otherwise it is answered
   * `forward` (the client sends it to the coordinator, or again once a transaction let go).
   */
  private async ingestGroup(all: IngestCommand[]): Promise<IngestApplied[]> {
    if (this.opened.deployment.shards === 1) return this.applyGroup(all);
    const { participant, deployment } = this.opened;
    const forward = all.map((command) => {
      const keys = commandKeys(command);
      const where = localPlacement(participant, deployment.placement, keys);
      if (where === "local" || where === "suppressed") return undefined;
      if (where === "wait") return where;
      // Everything it names lives on one other shard (a device whose profile a login moved
      // there): that shard can apply it alone.
      const homes = new Set(keys.map((k) => this.locate(k)));
      const [home] = homes;
      return homes.size === 1 && home !== undefined && home !== this.shard ? home : where;
    });
    const local = all.filter((_, i) => forward[i] === undefined);
    const applied = local.length > 0 ? await this.applyGroup(local) : [];
    const idle = { group: 0, items: 0, roundTrips: 0, phases: {} };
    return forward.map((where) =>
      where === undefined
        ? applied.shift()!
        : typeof where === "number"
          ? { outcomes: [], profiles: [], lane: idle, forward: "shard", shard: where }
          : { outcomes: [], profiles: [], lane: idle, forward: where },
    );
  }

  private async applyGroup(commands: IngestCommand[]): Promise<IngestApplied[]> {
    const before = this.d1.roundTrips();
    const clock = stopwatch();
    const { results, slice } = await ingestGroup(this.host, commands, clock);
    const itemMs = benchItemMs(this.env);
    if (itemMs > 0) await sleep(itemMs * commands.reduce((n, c) => n + c.items.length, 0));
    await this.commit(slice, () => this.hooks.beforePersist?.(commands));
    clock.lap("persist");
    const order = commitPoint();
    this.journal?.push(
      ...commands.map((command): JournalEntry => ({ kind: "ingest", command, order })),
    );
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

  /**
   * An exclusive write on identities this shard should hold. With several shards it first
   * checks they are here and not held by a transaction (else the client looks again or
   * waits); after it, the index shards of the identities it removed are told, outside the
   * lane (two shards' lanes never wait for each other).
   */
  private async ownedExclusive<T>(
    entry: Extract<JournalEntry, { refs: IdentityRef[] }>,
    run: () => Promise<{
      value: T;
      gone: Key[];
      suppressions?: [string, string, string][];
    }>,
  ): Promise<Consistent<T> | Relocated> {
    let removed: { gone: Key[]; suppressions?: [string, string, string][] } | undefined;
    const answer = await this.exclusive(async (): Promise<T | Relocated> => {
      // A link is kept with its first identity's profile: that one must be here.
      const where = this.whereIs(entry.refs[0]!);
      if (where !== "here") return { relocate: where };
      const { value, ...rest } = await run();
      removed = rest;
      this.journal?.push({ ...entry, order: commitPoint() }); // what was applied, not what was sent on
      return value;
    });
    if (isRelocated(answer.value)) return answer.value;
    if (removed && this.opened.deployment.shards > 1) await this.releaseElsewhere(removed);
    return answer as Consistent<T>;
  }

  /** Where an identity is, seen from this shard: the protocol's own placement check. */
  private whereIs(ref: IdentityRef): "here" | "moved" | "wait" {
    const { participant, deployment } = this.opened;
    if (deployment.shards === 1) return "here";
    const key = identityKey(ref.namespace, ref.value);
    const where = localPlacement(participant, deployment.placement, [key]);
    return where === "wait" ? "wait" : where === "coordinator" ? "moved" : "here";
  }

  private async releaseElsewhere(removed: {
    gone: Key[];
    suppressions?: [string, string, string][];
  }): Promise<void> {
    const { placement } = this.opened.deployment;
    const byShard = new Map<number, { keys: Key[]; rows: [string, string, string][] }>();
    removed.gone.forEach((key, i) => {
      const shard = placement.ownerOf(placement.indexBucket(key));
      if (shard === this.shard) return;
      const at = byShard.get(shard) ?? { keys: [], rows: [] };
      at.keys.push(key);
      const row = removed.suppressions?.[i];
      if (row) at.rows.push(row);
      byShard.set(shard, at);
    });
    const now = Date.now();
    await Promise.all(
      [...byShard].map(([shard, { keys, rows }]) =>
        this.env.GRAPH_WRITER.get(this.env.GRAPH_WRITER.idFromName(writerName(shard))).releaseIndex(
          keys,
          rows,
          now,
        ),
      ),
    );
  }

  /** Runs alone in the lane; answers once D1 holds what it committed, with the token for it. */
  private async exclusive<T>(run: () => Promise<T>): Promise<Consistent<T>> {
    const result = await this.lane.runExclusive(async () => ({
      value: await run(),
      seq: this.lastSeq,
    }));
    return { value: result.value, consistency: await this.settled(result.seq) };
  }

  /**
   * Waits until D1 holds commit `seq`, and answers the `Tessera-Consistency` token for the
   * state the caller has seen (the last commit when its own wrote nothing).
   */
  private async settled(seq: number | undefined): Promise<string> {
    const bookmark = await this.projection?.waitFor(seq ?? this.lastSeq);
    return formatToken({
      shard: this.shard,
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

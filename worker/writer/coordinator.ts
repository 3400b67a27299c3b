/**
 * The coordinator of cross-shard writes (design/scale-out.md §3.7): one Durable Object that
 * applies the calls no single owner shard can — a login joining profiles homed on two
 * shards, a record adding a new identity whose index lives elsewhere.
 *
 * Calls queue in a `WriteLane` like a shard's; each group is one transaction of the
 * protocol in `shards/protocol.ts`: the shards freeze the components the group touches and
 * send them whole, the writer's own ingest code decides in a scratch copy of the schema
 * (`shards/scratch-decide.ts`), the decision is logged (the commit point), D1 applies its
 * statements, and the shards install and remove components and let them go. A crash at
 * any step is finished by `recover` when the object starts again: an undecided transaction
 * is aborted where it asked, a decided one is projected and committed everywhere.
 */
import { DurableObject } from "cloudflare:workers";
import { suppressedRead } from "../db/queries/ingest";
import { readTogether } from "../db/queries/reads";
import { commandKeys } from "../ingest/command-keys";
import type { IngestCommand } from "../ingest/types";
import { formatToken } from "../lib/consistency";
import { benchItemMs, benchRpcMs } from "../lib/d1-latency";
import { sleep } from "../lib/timer-turn";
import type { Bindings } from "../model/bindings";
import { suppressionHasher } from "../privacy/suppression";
import { idRange } from "../shards/placement";
import {
  Coordinator,
  type PrepareReply,
  type TxId,
  type TxLog,
  type TxRecord,
} from "../shards/protocol";
import type { WebhookMessage } from "../webhooks/send";
import { WriteLane } from "./lane";
import { migrateWriterSql } from "./local-schema";
import type { ComponentRows } from "./shards/component-rows";
import { COORDINATOR_RANGE, requestedShards } from "./shards/deployment";
import { writerName } from "./shards/names";
import { type ProjectedChanges, RangeIds, ScratchWriter } from "./shards/scratch-decide";
import { D1Config } from "./state";
import {
  type CallResult,
  commitPoint,
  type DryRunApplied,
  type IngestApplied,
  type JournalEntry,
} from "./types";

/** Items per transaction: its components and decision stay far below an RPC's and a row's size. */
const MAX_GROUP_ITEMS = 500;
/** Tries before a group that keeps meeting busy components fails (each waits twice as long). */
const BUSY_TRIES = 8;
/** Finished transactions kept in the log (for the figures); older ones are dropped. */
const KEPT_FINISHED = 1_000;

/** The coordinator's log in its own SQLite: the commit point of every transaction. */
class SqlTxLog implements TxLog<ComponentRows> {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly onDecided: () => void,
  ) {
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS _tx_log (tx INTEGER PRIMARY KEY, state TEXT NOT NULL, record TEXT NOT NULL)",
    );
  }

  next(): TxId {
    return this.storage.sql
      .exec<{ tx: number }>("SELECT coalesce(max(tx), 0) + 1 AS tx FROM _tx_log")
      .one().tx;
  }

  put(record: TxRecord<ComponentRows>): void {
    this.storage.transactionSync(() => {
      const was = this.storage.sql
        .exec<{ state: string }>("SELECT state FROM _tx_log WHERE tx = ?", record.tx)
        .toArray()[0]?.state;
      this.storage.sql.exec(
        "INSERT OR REPLACE INTO _tx_log (tx, state, record) VALUES (?, ?, ?)",
        record.tx,
        record.state,
        record.state === "done" || record.state === "aborted" ? "{}" : JSON.stringify(record),
      );
      // The ids the decision took are durable with it (once: later puts only count commits).
      if (record.state === "decided" && was !== "decided") this.onDecided();
      if (record.state === "done")
        this.storage.sql.exec(
          "DELETE FROM _tx_log WHERE tx <= ? AND state IN ('done', 'aborted')",
          record.tx - KEPT_FINISHED,
        );
    });
  }

  unfinished(): TxRecord<ComponentRows>[] {
    return this.storage.sql
      .exec<{ record: string }>(
        "SELECT record FROM _tx_log WHERE state IN ('preparing', 'decided') ORDER BY tx",
      )
      .toArray()
      .map((r) => JSON.parse(r.record) as TxRecord<ComponentRows>);
  }

  figures(): { inFlight: number; committed: number } {
    const row = this.storage.sql
      .exec<{ inFlight: number; committed: number }>(
        `SELECT sum(state IN ('preparing', 'decided')) AS inFlight, coalesce(max(CASE WHEN state = 'done' THEN tx END), 0) AS committed FROM _tx_log`,
      )
      .one();
    return { inFlight: row.inFlight ?? 0, committed: row.committed };
  }
}

export class GraphCoordinator extends DurableObject<Bindings> {
  private coordinator!: Coordinator<IngestCommand, CallResult, ComponentRows>;
  private log!: SqlTxLog;
  private config!: D1Config;
  private scratch!: ScratchWriter;
  private readonly lane: WriteLane<IngestCommand, IngestApplied>;
  /** The D1 bookmark of the last decision D1 applied (what answers' tokens carry). */
  private bookmark: string | undefined;
  /** Test seams (through `runInDurableObject`): a journal of decided calls, and a fault after D1 applied a decision. */
  journal?: JournalEntry[];
  hooks: { afterProject?: (tx: TxId) => void } = {};
  /** The calls of the transaction being decided (journaled at its commit point). */
  private deciding: IngestCommand[] = [];
  private busyMs = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.lane = new WriteLane((commands) => this.runGroup(commands), {
      maxGroupItems: MAX_GROUP_ITEMS,
      sizeOf: (c) => c.items.length,
    });
    void ctx
      .blockConcurrencyWhile(() => this.open())
      .then(() => this.coordinator.recover())
      .catch((err) =>
        console.error(`coordinator: recovery paused (the next call resumes it): ${err}`),
      );
  }

  private async open(): Promise<void> {
    const { storage } = this.ctx;
    migrateWriterSql(storage); // the scratch copy decisions are made in
    const config = new D1Config(this.env.DB, requestedShards(this.env));
    this.config = config;
    const deployment = await config.placement();
    const ids = new RangeIds(storage.sql, idRange(COORDINATOR_RANGE));
    let hasher: ReturnType<typeof suppressionHasher> | undefined;
    this.log = new SqlTxLog(storage, () => {
      ids.save();
      const order = commitPoint();
      this.journal?.push(
        ...this.deciding.map((command): JournalEntry => ({ kind: "ingest", command, order })),
      );
    });
    this.scratch = new ScratchWriter({
      storage,
      config,
      suppression: { hasher: () => (hasher ??= suppressionHasher(this.env)) },
      ids,
      suppressed: async (hashes) => [
        ...(await readTogether(this.env.DB, { s: suppressedRead(this.env.DB, hashes) })).s,
      ],
    });
    const rpcMs = benchRpcMs(this.env);
    const shard = (s: number) => {
      const stub = this.env.GRAPH_WRITER.get(this.env.GRAPH_WRITER.idFromName(writerName(s)));
      // Bench only: the time a call between objects takes on Cloudflare.
      return rpcMs ? sleep(rpcMs).then(() => stub) : Promise.resolve(stub);
    };
    this.coordinator = new Coordinator(
      this.log,
      {
        // RPC's types flatten tuples ([key, bucket] redirects); the values are the same.
        prepare: async (s, tx, keys) =>
          (await (await shard(s)).prepare(tx, keys)) as unknown as PrepareReply<ComponentRows>,
        commit: async (s, tx, actions) => (await shard(s)).commitTx(tx, actions),
        abort: async (s, tx) => (await shard(s)).abortTx(tx),
      },
      deployment.placement,
      this.scratch.decide,
      commandKeys,
      {
        prepareAttempts: 3,
        retryDelay: () => sleep(50),
        project: (tx, changes) => this.project(tx, changes as ProjectedChanges),
      },
    );
  }

  /** One call that spans shards; answered once D1 holds its decision. */
  async ingest(command: IngestCommand): Promise<IngestApplied> {
    return this.lane.submit(command);
  }

  /**
   * What a call that spans shards would do (SPEC §9 `dryRun`): its components frozen as a
   * transaction would see them, the call applied in the scratch store, and everything let go.
   */
  async dryRun(command: IngestCommand): Promise<DryRunApplied> {
    return this.lane.runExclusive(async () => {
      for (let attempt = 0; ; attempt++) {
        const looked = await this.coordinator.look([command], (components, _reserved, suppressed) =>
          this.scratch.dryRun(command, components, suppressed),
        );
        if (looked.ok)
          return {
            outcomes: looked.value.result.outcomes,
            profiles: looked.value.result.profiles,
            effect: looked.value.effect,
          };
        if (looked.reason === "unreachable" || attempt + 1 >= BUSY_TRIES)
          throw new Error(`a cross-shard dry run could not run (${looked.reason})`);
        await sleep(10 * 2 ** attempt);
      }
    });
  }

  /** Configuration changed (graph rules, segments, destinations…): the next decision reloads it. */
  configChanged(): void {
    this.config.invalidate();
  }

  /**
   * In-flight and committed transactions, and the milliseconds spent running them since the
   * object started (`GET /v1/admin/shards`; the bench's busy fraction).
   */
  figures(): { inFlight: number; committed: number; busyMs: number } {
    return { ...this.log.figures(), busyMs: Math.round(this.busyMs) };
  }

  private async runGroup(commands: IngestCommand[]): Promise<IngestApplied[]> {
    const started = performance.now();
    try {
      return await this.runTransaction(commands);
    } finally {
      this.busyMs += performance.now() - started;
    }
  }

  private async runTransaction(commands: IngestCommand[]): Promise<IngestApplied[]> {
    this.deciding = commands;
    const itemMs = benchItemMs(this.env);
    if (itemMs > 0) await sleep(itemMs * commands.reduce((n, c) => n + c.items.length, 0));
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.coordinator.run(commands);
      if (outcome.committed) {
        const token = formatToken({
          shard: COORDINATOR_RANGE,
          seq: outcome.tx,
          ...(this.bookmark ? { bookmark: this.bookmark } : {}),
        });
        const lane = {
          group: commands.length,
          items: commands.reduce((n, c) => n + c.items.length, 0),
          roundTrips: 0,
          phases: {},
          seq: outcome.tx,
        };
        return outcome.results.map((r) => ({ ...r, lane, consistency: token }));
      }
      // Busy: another transaction's freeze a lost abort left, or a shard's answer was lost; try again later.
      if (outcome.reason === "unreachable" || attempt + 1 >= BUSY_TRIES)
        throw new Error(`a cross-shard transaction could not run (${outcome.reason})`);
      await sleep(10 * 2 ** attempt);
    }
  }

  /**
   * D1 applies a decision once: the transaction's row goes in the same batch, so a batch
   * sent again after a lost answer fails whole, and the row says it was applied.
   */
  private async project(tx: TxId, changes: ProjectedChanges): Promise<void> {
    const session = this.env.DB.withSession("first-primary");
    try {
      await session.batch([
        session
          .prepare("INSERT INTO projected_transactions (tx, applied_at) VALUES (?1, ?2)")
          .bind(tx, Date.now()),
        ...changes.statements.map((s) => session.prepare(s.sql).bind(...s.args)),
      ]);
      this.bookmark = session.getBookmark() ?? undefined;
      this.hooks.afterProject?.(tx);
    } catch (err) {
      const applied = await this.env.DB.prepare(
        "SELECT 1 AS one FROM projected_transactions WHERE tx = ?1",
      )
        .bind(tx)
        .first("one");
      if (!applied) throw err;
      this.bookmark = undefined;
    }
    for (let i = 0; i < changes.deliveryIds.length; i += 50)
      this.env.WEBHOOK_QUEUE.send({
        kind: "webhook-deliver",
        ids: changes.deliveryIds.slice(i, i + 50),
      } satisfies WebhookMessage).catch((err) =>
        console.error(`webhook announce failed (the cron sweep will send): ${err}`),
      );
  }
}

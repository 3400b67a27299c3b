/**
 * The writer's hosts: what the GraphWriter keeps between calls — its configuration (it
 * applies every write, so it owns graph rules and segment definitions; config routes tell
 * it when they change), the next free row ids (only the writer inserts identities, history
 * and deliveries) and the suppression hasher — and the store its slices read from and
 * commit to.
 *
 * Two stores. `local`: the graph's truth is the object's own SQLite (synchronous, no
 * network inside the lane), and D1's graph tables are a projection fed from the commit log
 * (`projection.ts`). `d1`: D1 holds the truth, as deployments did before the writer had a
 * database of its own; such a deployment keeps it until its graph is moved.
 */

import { loadComputedDefs } from "../computed/definitions";
import { effectiveSettings } from "../consent/merge";
import { createDb } from "../db/client";
import { type IdRange, idCountersRead } from "../db/queries/graph";
import { constantRead, type Read, readTogether, type WriteStatement } from "../db/queries/reads";
import { loadSegmentDefs } from "../db/queries/segments";
import { getSetting } from "../db/queries/settings";
import { webhookDestinations } from "../db/queries/webhooks";
import { loadGraphRules } from "../graph/identity-config";
import type { MeteredD1 } from "../lib/d1-latency";
import type { Bindings } from "../model/bindings";
import { suppressionHasher } from "../privacy/suppression";
import { ruleTestsConsent } from "../segments/rules";
import { idRange } from "../shards/placement";
import type {
  ConfigSource,
  Counters,
  Ids,
  Store,
  Suppression,
  WriterConfig,
  WriterHost,
} from "./host";
import { migrateWriterSql } from "./local-schema";
import { LocalSql } from "./local-sql";
import { GraphMove, newMoveStatus, readMoveStatus } from "./move";
import { Projection } from "./projection";
import { type Deployment, loadDeployment, requestedShards } from "./shards/deployment";
import { SqlParticipant } from "./shards/participant";

/** A safety net only: config routes invalidate at once (`GraphWriter.configChanged`). */
const CONFIG_MAX_AGE_MS = 60_000;

export class D1Config implements ConfigSource {
  private cached?: { value: Promise<WriterConfig>; loadedAt: number };
  /** The deployment's placement never changes: read once. */
  private deployment?: Promise<Deployment>;

  constructor(
    private readonly d1: D1Database,
    private readonly requestedShards: number,
  ) {}

  /** The shard count, index salt and directory (read once). */
  placement(): Promise<Deployment> {
    if (!this.deployment) {
      this.deployment = loadDeployment(this.d1, this.requestedShards);
      this.deployment.catch(() => (this.deployment = undefined)); // read again on the next load
    }
    return this.deployment;
  }

  current(): Promise<WriterConfig> {
    if (!this.cached || Date.now() - this.cached.loadedAt > CONFIG_MAX_AGE_MS) {
      const d1 = this.d1;
      const value = Promise.all([
        loadGraphRules(createDb(d1)),
        loadSegmentDefs(d1),
        webhookDestinations(d1),
        loadComputedDefs(d1),
        getSetting(createDb(d1), "consent"),
        this.placement(),
      ]).then(([rules, segments, webhooks, computed, consent, deployment]) => ({
        rules,
        segments,
        webhooks,
        computed,
        consent: effectiveSettings(consent),
        readsConsent:
          webhooks.some((w) => (w.config.purposes?.length ?? 0) > 0) ||
          segments.some((s) => ruleTestsConsent(s.rule)),
        newProfileId: deployment.newProfileId,
      }));
      this.cached = { value, loadedAt: Date.now() };
      value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

/**
 * A webhook delivery's sequence when several writers hand them out (shards, the
 * coordinator): at least the writer's next, and at least the clock in microseconds, so a
 * profile's deliveries keep increasing when a cross-shard merge passes it from one writer to
 * another. (Exact per-profile sequences kept in the profile row are the fuller answer; this
 * holds while the writers' clocks agree to within the time between two of its changes.)
 */
export const clockSequence = (next: number): number => Math.max(next, Date.now() * 1000);

/** Row ids read once from the store (the highest in the writer's range), then counted here. */
export class SqlIds implements Ids {
  private counters?: Counters;

  constructor(
    private readonly d1: D1Database,
    private readonly range?: IdRange,
    /** Several writers: delivery sequences follow the clock (see `clockSequence`). */
    private readonly clocked = false,
  ) {}

  countersRead(): Read<Counters> {
    return this.counters ? constantRead(this.counters) : idCountersRead(this.d1, this.range);
  }

  loaded(counters: Counters): void {
    this.counters ??= { ...counters };
  }

  async ensure(): Promise<void> {
    if (!this.counters)
      this.loaded(
        (await readTogether(this.d1, { counters: idCountersRead(this.d1, this.range) })).counters,
      );
  }

  identity(): number {
    return this.known().identity++;
  }

  history(n: number): number {
    const counters = this.known();
    const first = counters.history;
    counters.history += n;
    return first;
  }

  sequence(): number {
    const counters = this.known();
    if (this.clocked) counters.webhookSequence = clockSequence(counters.webhookSequence);
    return counters.webhookSequence++;
  }

  private known(): Counters {
    if (!this.counters)
      throw new Error(
        "writer ids used before they were loaded (call ids.ensure() or fold ids.countersRead() into the slice's read)",
      );
    return this.counters;
  }
}

class D1Store implements Store {
  constructor(readonly sql: D1Database) {}

  read<R extends Record<string, Read<unknown>>>(reads: R) {
    return readTogether(this.sql, reads);
  }

  async commit(statements: readonly WriteStatement[]): Promise<undefined> {
    if (statements.length > 0) await this.sql.batch([...statements]);
    return undefined;
  }
}

/** The object's own SQLite: a commit is one local transaction that also appends to the log. */
class LocalStore implements Store {
  readonly sql: D1Database;

  constructor(
    private readonly local: LocalSql,
    private readonly projection: Projection,
  ) {
    this.sql = local.asHandle();
  }

  read<R extends Record<string, Read<unknown>>>(reads: R) {
    return readTogether(this.sql, reads);
  }

  async commit(statements: readonly WriteStatement[]): Promise<number | undefined> {
    if (statements.length === 0) return undefined;
    const portable = LocalSql.portable(statements);
    const seq = this.projection.nextSeq();
    this.local.storage.transactionSync(() => {
      LocalSql.execute(statements);
      this.projection.record(seq, portable);
      // Deliveries live in D1 (the projection writes them there); locally only the newest is
      // kept, as the sequence counter's high-water mark, so the object's SQLite does not grow with them.
      this.local.rowsWritten += this.local.storage.sql.exec(
        "DELETE FROM webhook_deliveries WHERE sequence < (SELECT max(sequence) FROM webhook_deliveries)",
      ).rowsWritten;
    });
    this.projection.committedUpTo(seq, portable);
    return seq;
  }
}

/**
 * D1 holds the truth while the graph moves; every commit is mirrored into the local copy
 * (a failure there only means the move must verify again: D1 has the commit).
 */
class MovingStore extends D1Store {
  constructor(
    d1: D1Database,
    private readonly sqlOf: (statement: unknown) => { sql: string; args: unknown[] } | undefined,
    private readonly local: LocalSql,
    private readonly move: GraphMove,
  ) {
    super(d1);
  }

  override async commit(statements: readonly WriteStatement[]): Promise<undefined> {
    await super.commit(statements);
    try {
      this.local.applyPortable(
        statements.map((s) => {
          const source = this.sqlOf(s);
          if (!source) throw new Error("a statement not built on the writer's D1 handle");
          return source;
        }),
      );
    } catch (err) {
      console.error(
        `graph move: a commit could not be mirrored locally (the move verifies again): ${err}`,
      );
      this.move.diverged();
    }
    return undefined;
  }
}

/** `moving`: D1 holds the truth and the graph is being copied into the local store. */
export type GraphStoreMode = "local" | "d1" | "moving";

export interface OpenedWriter {
  mode: GraphStoreMode;
  host: WriterHost;
  config: D1Config;
  /** The deployment's shards and placement. */
  deployment: Deployment;
  /** This writer's side of the cross-shard protocol (its tables sit beside the graph's). */
  participant: SqlParticipant;
  /** The D1 projection of the local store (`local` only). */
  projection?: Projection;
  /** The move of a D1-held graph into the local store (`moving` only). */
  move?: GraphMove;
  /** Rows the local store has written (the bench's cost figure). */
  localRowsWritten(): number;
}

/**
 * Which store holds the graph: once `local`, always (recorded in the object's SQLite). A
 * new deployment (D1 holds no identity) starts `local`; one whose graph is in D1 starts
 * `moving` it, unless `TESSERA_GRAPH_STORE=d1` keeps it in D1.
 */
async function chooseMode(
  storage: DurableObjectStorage,
  d1: D1Database,
  env: Bindings,
  shards: number,
): Promise<GraphStoreMode> {
  const recorded = storage.sql
    .exec<{ value: string }>("SELECT value FROM _writer_state WHERE key = 'graph_store'")
    .toArray()[0]?.value;
  if (recorded === "local" || recorded === "moving") return recorded;
  if (shards > 1) {
    // A deployment starts with its shards, so no graph of it was ever in D1 — which now holds other shards' projections.
    if (env.TESSERA_GRAPH_STORE === "d1")
      throw new Error(
        "TESSERA_GRAPH_STORE=d1 keeps one writer's graph in D1: it cannot be sharded",
      );
    recordMode(storage, "local");
    return "local";
  }
  if (env.TESSERA_GRAPH_STORE === "d1") return "d1";
  const mode = (await d1.prepare("SELECT 1 AS one FROM identities LIMIT 1").first("one"))
    ? "moving"
    : "local";
  recordMode(storage, mode);
  return mode;
}

export function recordMode(storage: DurableObjectStorage, mode: "local" | "moving"): void {
  storage.sql.exec(
    "INSERT OR REPLACE INTO _writer_state (key, value) VALUES ('graph_store', ?)",
    mode,
  );
}

/**
 * The writer's hosts; `metered` is its D1 handle, so the writer's D1 round trips are
 * counted. `shard` is the owner shard this writer is (0 when the deployment has one).
 */
export async function openWriter(
  storage: DurableObjectStorage,
  env: Bindings,
  metered: MeteredD1,
  shard = 0,
): Promise<OpenedWriter> {
  const d1 = metered.db;
  let hasher: Promise<(text: string) => Promise<string>> | undefined;
  const suppression: Suppression = { hasher: () => (hasher ??= suppressionHasher(env)) };
  const config = new D1Config(d1, requestedShards(env));
  const deployment = await config.placement();
  if (shard >= deployment.shards)
    throw new Error(
      `writer ${shard} started, but the deployment has ${deployment.shards} shard(s)`,
    );
  migrateWriterSql(storage);
  storage.sql.exec(
    "CREATE TABLE IF NOT EXISTS _writer_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  );
  const mode = await chooseMode(storage, d1, env, deployment.shards);
  const common = { config, deployment, participant: new SqlParticipant(shard, storage) };
  if (mode === "d1")
    return {
      ...common,
      mode,
      host: { config, ids: new SqlIds(d1), suppression, store: new D1Store(d1) },
      localRowsWritten: () => 0,
    };
  if (mode === "moving") {
    const local = new LocalSql(storage);
    const move = new GraphMove(storage, d1, readMoveStatus(storage) ?? newMoveStatus(Date.now()));
    return {
      ...common,
      mode,
      move,
      host: {
        config,
        ids: new SqlIds(d1),
        suppression,
        store: new MovingStore(d1, metered.sqlOf, local, move),
      },
      localRowsWritten: () => local.rowsWritten,
    };
  }

  const local = new LocalSql(storage);
  const projection = new Projection(storage, d1, shard);
  await projection.start();
  return {
    ...common,
    mode,
    projection,
    host: {
      config,
      ids: new SqlIds(local.asHandle(), idRange(shard), deployment.shards > 1),
      suppression,
      store: new LocalStore(local, projection),
    },
    localRowsWritten: () => local.rowsWritten,
  };
}

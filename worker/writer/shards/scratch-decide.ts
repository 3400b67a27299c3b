/**
 * The coordinator's decision (`Decide` of shards/protocol.ts), made by the writer's own code:
 * the frozen components are installed into a scratch copy of the writer's schema, the group
 * runs through `ingestGroup` and the one commit step exactly as a shard runs it (rule 3 then
 * ranks, caps and names profiles over the same inputs a single writer would see), and the
 * components as they stand after are read back for the owners.
 *
 * What the commit wrote is kept as portable statements: they are the decision's changes to
 * the read projection (D1 holds every shard's rows in one database, so these statements are
 * exactly what a single writer would have sent it).
 */

import { constantRead, type Read, readTogether, type WriteStatement } from "../../db/queries/reads";
import type { GraphEffect } from "../../graph/effect";
import { commandKeys } from "../../ingest/command-keys";
import type { IngestCommand } from "../../ingest/types";
import type { Component, Decide } from "../../shards/protocol";
import { commitSlice } from "../commit";
import type { ConfigSource, Counters, Ids, Store, Suppression, WriterHost } from "../host";
import { LocalSql, type PortableStatement } from "../local-sql";
import { dryRunGroup, ingestGroup, stopwatch } from "../slices/ingest-group";
import { clockSequence } from "../state";
import type { CallResult } from "../types";
import {
  COMPONENT_TABLES,
  type ComponentRows,
  componentKeys,
  installComponent,
  readComponent,
} from "./component-rows";

/** Tables the scratch store empties before each decision (what a decision can write). */
const SCRATCH_TABLES = [
  ...COMPONENT_TABLES,
  "attribute_index",
  "suppressions",
  "webhook_deliveries",
];

/**
 * Ids the coordinator hands out: from its own range, kept in its SQLite (the scratch store
 * is emptied, so it cannot hold them). `save` runs with the decision's log record.
 */
export class RangeIds implements Ids {
  private readonly counters: Counters;

  constructor(
    private readonly sql: SqlStorage,
    range: { low: number },
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS _coordinator_ids (id INTEGER PRIMARY KEY CHECK (id = 1), identity INTEGER NOT NULL, history INTEGER NOT NULL, sequence INTEGER NOT NULL)",
    );
    const row = sql
      .exec<{ identity: number; history: number; sequence: number }>(
        "SELECT identity, history, sequence FROM _coordinator_ids",
      )
      .toArray()[0];
    this.counters = row
      ? { identity: row.identity, history: row.history, webhookSequence: row.sequence }
      : { identity: range.low + 1, history: range.low + 1, webhookSequence: 1 };
  }

  countersRead(): Read<Counters> {
    return constantRead(this.counters);
  }

  loaded(): void {}

  async ensure(): Promise<void> {}

  identity(): number {
    return this.counters.identity++;
  }

  history(n: number): number {
    const first = this.counters.history;
    this.counters.history += n;
    return first;
  }

  sequence(): number {
    this.counters.webhookSequence = clockSequence(this.counters.webhookSequence);
    return this.counters.webhookSequence++;
  }

  save(): void {
    const { identity, history, webhookSequence } = this.counters;
    this.sql.exec(
      "INSERT OR REPLACE INTO _coordinator_ids (id, identity, history, sequence) VALUES (1, ?, ?, ?)",
      identity,
      history,
      webhookSequence,
    );
  }
}

/** A store over the scratch SQLite that keeps what each commit wrote. */
class CapturingStore implements Store {
  readonly sql: D1Database;
  captured: PortableStatement[] = [];

  constructor(private readonly local: LocalSql) {
    this.sql = local.asHandle();
  }

  read<R extends Record<string, Read<unknown>>>(reads: R) {
    return readTogether(this.sql, reads);
  }

  async commit(statements: readonly WriteStatement[]): Promise<undefined> {
    this.captured.push(...LocalSql.portable(statements));
    this.local.storage.transactionSync(() => LocalSql.execute(statements));
    return undefined;
  }
}

interface ScratchDeps {
  /** The coordinator's SQLite, migrated to the writer's schema. */
  storage: DurableObjectStorage;
  config: ConfigSource;
  suppression: Suppression;
  ids: RangeIds;
  /** Which of these identity hashes are on the suppression list. */
  suppressed: (hashes: string[]) => Promise<string[]>;
}

/** What D1 applies for a decision, and the webhook deliveries it holds (announced after). */
export interface ProjectedChanges {
  statements: PortableStatement[];
  deliveryIds: string[];
}

/** The coordinator's scratch copy of the writer: frozen components in, decisions out. */
export class ScratchWriter {
  private readonly local: LocalSql;

  constructor(private readonly deps: ScratchDeps) {
    this.local = new LocalSql(deps.storage);
  }

  /** A decision over `IngestCommand`s, whose `changes` are `ProjectedChanges`. */
  readonly decide: Decide<IngestCommand, CallResult, ComponentRows> = async (
    ops,
    components,
    _reserved,
    suppressed,
  ) => {
    const { host, store } = await this.load(ops, components, suppressed);
    const { results, slice } = await ingestGroup(host, ops, stopwatch());
    const { deliveryIds } = await commitSlice(host, slice);
    const sql = this.deps.storage.sql;
    const after = sql
      .exec<{ id: string }>("SELECT id FROM profiles")
      .toArray()
      .map(({ id }): Component<ComponentRows> => {
        const rows = readComponent(sql, id)!;
        return { profileId: id, keys: componentKeys(rows), payload: rows };
      });
    const changes: ProjectedChanges = { statements: store.captured, deliveryIds };
    return { results, after, changes };
  };

  /** What a call would do to these components (SPEC §9 `dryRun`); nothing leaves the scratch store. */
  async dryRun(
    command: IngestCommand,
    components: readonly Component<ComponentRows>[],
    suppressed: ReadonlySet<string>,
  ): Promise<{ result: CallResult; effect: GraphEffect }> {
    const { host } = await this.load([command], components, suppressed);
    return dryRunGroup(host, command);
  }

  /** Empties the scratch store, installs the components and the suppressions the calls meet. */
  private async load(
    ops: readonly IngestCommand[],
    components: readonly Component<ComponentRows>[],
    suppressed: ReadonlySet<string>,
  ): Promise<{ host: WriterHost; store: CapturingStore }> {
    const { storage, suppression } = this.deps;
    const sql = storage.sql;
    storage.transactionSync(() => {
      for (const table of SCRATCH_TABLES) sql.exec(`DELETE FROM ${table}`);
      for (const component of components) installComponent(sql, component.payload);
    });
    // Erased identities are refused by the ingest code as at a shard, by their hash: the
    // suppression list is the read projection's (an erase is answered once D1 holds it).
    const hash = await suppression.hasher();
    const keys = [...new Set(ops.flatMap(commandKeys))];
    const hashes = new Map(await Promise.all(keys.map(async (k) => [await hash(k), k] as const)));
    const listed = new Set(await this.deps.suppressed([...hashes.keys()]));
    for (const [h, key] of hashes)
      if (listed.has(h) || suppressed.has(key))
        sql.exec(
          "INSERT OR IGNORE INTO suppressions (hash, namespace, profile_id, created_at) VALUES (?, ?, NULL, 0)",
          h,
          key.slice(0, key.indexOf(":")),
        );
    const store = new CapturingStore(this.local);
    return {
      host: { config: this.deps.config, ids: this.deps.ids, suppression, store },
      store,
    };
  }
}

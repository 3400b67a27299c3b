/**
 * Owner shards and a coordinator in Node, running the writer's real code: each shard is a
 * writer's SQLite (node:sqlite, the writer's schema) with its participant store and a host
 * like the GraphWriter's; the coordinator decides in its own scratch SQLite
 * (`scratchDecide`); "D1" is one more node:sqlite database with D1's schema, fed by every
 * shard's commits and every coordinator decision, as the projection feeds it.
 *
 * A single writer over the same configuration is the reference: `check.ts`-style
 * comparisons normalize profile ids away (they are random), comparing components by their
 * identity keys.
 */
import { effectiveSettings } from "../../worker/consent/merge";
import { readTogether, type WriteStatement } from "../../worker/db/queries/reads";
import type { SegmentDef } from "../../worker/db/queries/segments";
import { commandKeys } from "../../worker/ingest/command-keys";
import type { IngestCommand } from "../../worker/ingest/types";
import { initialDirectory, ownerOf } from "../../worker/shards/directory";
import {
  idRange,
  indexBucket,
  indexKey,
  MAX_SHARDS,
  profileBucket,
  profileIdMinter,
} from "../../worker/shards/placement";
import {
  abort,
  Coordinator,
  commit,
  localPlacement,
  type Placement,
  prepare,
  type TxLog,
  type TxRecord,
} from "../../worker/shards/protocol";
import { commitSlice } from "../../worker/writer/commit";
import type { WriterConfig, WriterHost } from "../../worker/writer/host";
import { migrateWriterSql } from "../../worker/writer/local-schema";
import { LocalSql, type PortableStatement } from "../../worker/writer/local-sql";
import { WRITER_MIGRATIONS } from "../../worker/writer/schema.generated";
import type { ComponentRows } from "../../worker/writer/shards/component-rows";
import { SqlParticipant } from "../../worker/writer/shards/participant";
import {
  type ProjectedChanges,
  RangeIds,
  ScratchWriter,
} from "../../worker/writer/shards/scratch-decide";
import { ingestGroup, stopwatch } from "../../worker/writer/slices/ingest-group";
import { SqlIds } from "../../worker/writer/state";
import type { CallResult } from "../../worker/writer/types";
import { builtInRules } from "./graph-fixtures";
import { DatabaseSync, type SqliteDb, sqliteStorage } from "./sqlite-storage";

/** "D1": the migrations as D1 runs them (report tables and their triggers included). */
export function d1Database(): SqliteDb {
  const db = new DatabaseSync(":memory:");
  for (const migration of WRITER_MIGRATIONS) for (const s of migration.statements) db.exec(s);
  return db;
}

const applyTo = (db: SqliteDb, statements: readonly PortableStatement[]) => {
  db.exec("BEGIN");
  try {
    for (const s of statements) db.prepare(s.sql).run(...s.args);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
};

const hasher = async () => async (key: string) => `hash:${key}`;

async function config(segments: SegmentDef[]): Promise<WriterConfig> {
  return {
    rules: builtInRules(4),
    segments,
    computed: [],
    consent: effectiveSettings(undefined),
    readsConsent: false,
    webhooks: [],
    newProfileId: profileIdMinter(await indexKey("test-salt")),
  };
}

/** A writer's SQLite with a host like the GraphWriter's: every commit also goes to `d1`. */
function writer(shard: number, cfg: WriterConfig, d1: SqliteDb) {
  const { db, storage } = sqliteStorage();
  migrateWriterSql(storage);
  const local = new LocalSql(storage);
  const sql = local.asHandle();
  const host: WriterHost = {
    config: { current: async () => cfg, invalidate() {} },
    ids: new SqlIds(sql, idRange(shard)),
    suppression: { hasher },
    store: {
      sql,
      read: (reads) => readTogether(sql, reads),
      async commit(statements: readonly WriteStatement[]) {
        const portable = LocalSql.portable(statements);
        storage.transactionSync(() => LocalSql.execute(statements));
        applyTo(d1, portable);
        return undefined;
      },
    },
  };
  const apply = async (command: IngestCommand): Promise<CallResult> => {
    const { results, slice } = await ingestGroup(host, [command], stopwatch());
    await commitSlice(host, slice);
    return results[0]!;
  };
  return { db, storage, host, apply };
}

class MemoryLog implements TxLog<ComponentRows> {
  counter = 0;
  records = new Map<number, TxRecord<ComponentRows>>();
  next = () => ++this.counter;
  put(record: TxRecord<ComponentRows>) {
    this.records.set(record.tx, structuredClone(record));
  }
  unfinished = () =>
    [...this.records.values()].filter((r) => r.state === "preparing" || r.state === "decided");
}

export type Route = "local" | "coordinator";

/** `shardCount` owner shards, one coordinator, and "D1". */
export async function shardedWriters(shardCount: number, segments: SegmentDef[] = []) {
  const cfg = await config(segments);
  const key = await indexKey("test-salt");
  const directory = initialDirectory(shardCount);
  const placement: Placement = {
    indexBucket: (k) => indexBucket(key, k),
    profileBucket,
    ownerOf: (bucket) => ownerOf(directory, bucket),
  };
  const d1 = d1Database();
  const shards = Array.from({ length: shardCount }, (_, s) => {
    const w = writer(s, cfg, d1);
    return { ...w, participant: new SqlParticipant(s, w.storage) };
  });
  const scratch = sqliteStorage();
  migrateWriterSql(scratch.storage);
  const appliedTx = new Set<number>();
  const coordinator = new Coordinator<IngestCommand, CallResult, ComponentRows>(
    new MemoryLog(),
    {
      prepare: async (s, tx, keys) =>
        structuredClone(prepare(shards[s]!.participant, placement, tx, keys)),
      commit: async (s, tx, actions) =>
        commit(shards[s]!.participant, tx, structuredClone(actions)),
      abort: async (s, tx) => abort(shards[s]!.participant, tx),
    },
    placement,
    new ScratchWriter({
      storage: scratch.storage,
      config: { current: async () => cfg, invalidate() {} },
      suppression: { hasher },
      ids: new RangeIds(scratch.storage.sql, idRange(MAX_SHARDS - 1)),
      suppressed: async (hashes) =>
        (d1.prepare("SELECT hash FROM suppressions").all() as { hash: string }[])
          .map((r) => r.hash)
          .filter((h) => hashes.includes(h)),
    }).decide,
    commandKeys,
    {
      prepareAttempts: 3,
      retryDelay: async () => undefined,
      project: async (tx, changes) => {
        if (appliedTx.has(tx)) return; // D1 keeps a marker per transaction in the same batch
        applyTo(d1, (changes as ProjectedChanges).statements);
        appliedTx.add(tx);
      },
    },
  );
  const routes: Route[] = [];

  /** A call, sent to the shard hosting its first identity's index bucket. */
  async function ingest(command: IngestCommand): Promise<CallResult> {
    const keys = commandKeys(command);
    const shard = shards[placement.ownerOf(placement.indexBucket(keys[0]!))]!;
    const where = localPlacement(shard.participant, placement, keys);
    if (where === "local" || where === "suppressed") {
      routes.push("local");
      return shard.apply(command);
    }
    if (where === "wait") throw new Error("a sequential run never waits");
    routes.push("coordinator");
    const outcome = await coordinator.run([command]);
    if (!outcome.committed) throw new Error(`coordinator gave up: ${outcome.reason}`);
    return outcome.results[0]!;
  }

  return { shards, d1, placement, ingest, routes, directory };
}

/** The reference: one writer, no shards. */
export async function singleWriter(segments: SegmentDef[] = []) {
  const d1 = d1Database();
  const w = writer(0, await config(segments), d1);
  return { ...w, d1 };
}

type Db = SqliteDb;
const all = <T>(db: Db, sql: string) => db.prepare(sql).all() as T[];

/**
 * A store's graph and data with profile ids replaced by their components' sorted keys:
 * what must be equal between the sharded run and the single writer, and between the
 * shards together and D1.
 */
export function normalized(dbs: Db[]) {
  const components = new Map<string, string[]>();
  const keyOf = new Map<string, string>();
  const rows = (sql: string) => dbs.flatMap((db) => all<Record<string, unknown>>(db, sql));
  for (const i of rows("SELECT id, namespace, value, profile_id FROM identities")) {
    const key = `${i.namespace}:${i.value}`;
    keyOf.set(`${i.id}`, key);
    components.set(String(i.profile_id), [...(components.get(String(i.profile_id)) ?? []), key]);
  }
  const name = (profileId: unknown) =>
    (components.get(String(profileId)) ?? [`?${profileId}`]).sort().join(",");
  const sorted = (list: string[]) => list.sort();
  return {
    components: sorted([...components.values()].map((keys) => keys.sort().join(","))),
    profiles: sorted(
      rows(
        "SELECT id, primary_namespace, primary_value, display_name, identity_count FROM profiles",
      ).map(
        (p) =>
          `${name(p.id)} primary=${p.primary_namespace}:${p.primary_value} name=${p.display_name} n=${p.identity_count}`,
      ),
    ),
    links: sorted(
      rows("SELECT a_id, b_id, dataset, applied FROM links").map(
        (l) => `${keyOf.get(`${l.a_id}`)}-${keyOf.get(`${l.b_id}`)} ${l.dataset} ${l.applied}`,
      ),
    ),
    fragments: sorted(
      rows("SELECT identity_id, dataset, attributes FROM fragments").map(
        (f) => `${keyOf.get(`${f.identity_id}`)} ${f.dataset} ${f.attributes}`,
      ),
    ),
    attributeIndex: sorted(
      rows("SELECT path, value, identity_id, dataset FROM attribute_index").map(
        (a) => `${a.path}=${a.value} ${keyOf.get(`${a.identity_id}`)} ${a.dataset}`,
      ),
    ),
    events: sorted(
      rows("SELECT id, identity_id, type FROM events").map(
        (e) => `${e.id} ${keyOf.get(`${e.identity_id}`)} ${e.type}`,
      ),
    ),
    memberships: sorted(
      rows("SELECT segment_id, profile_id, status FROM memberships").map(
        (m) => `${m.segment_id} ${name(m.profile_id)} ${m.status}`,
      ),
    ),
    terms: sorted(
      rows("SELECT term, profile_id FROM profile_terms").map(
        (t) => `${t.term} ${name(t.profile_id)}`,
      ),
    ),
  };
}

/**
 * The owner shards of the deployment under test: one in the `worker` project, four in
 * `worker-shards` (`TESSERA_SHARDS=4`). Tests that look inside the writers (journals, their
 * own SQLite) look inside every shard.
 */
import { env, runInDurableObject } from "cloudflare:test";
import {
  deploymentOf,
  type GraphCoordinator,
  type GraphWriter,
  graphCoordinator,
  shardWriter,
} from "../worker/writer/client";
import type { JournalEntry } from "../worker/writer/types";

export const SHARDS = Number(env.TESSERA_SHARDS ?? "1");

export const everyWriter = () =>
  Array.from(
    { length: SHARDS },
    (_, s) => shardWriter(env, s) as unknown as DurableObjectStub<GraphWriter>,
  );

const coordinator = () => graphCoordinator(env) as unknown as DurableObjectStub<GraphCoordinator>;

/** Every writer (and, with several shards, the coordinator) starts a journal of what it commits. */
export async function startJournals(): Promise<void> {
  for (const writer of everyWriter())
    await runInDurableObject(writer, (instance: GraphWriter) => {
      instance.journal = [];
    });
  if (SHARDS > 1)
    await runInDurableObject(coordinator(), (instance: GraphCoordinator) => {
      instance.journal = [];
    });
}

/**
 * What was committed since `startJournals`, in the order of the commit points (the writers'
 * and the coordinator's journals share one counter in a local run); the journals stop.
 */
export async function takeJournals(): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  const take = (instance: GraphWriter | GraphCoordinator) => {
    const taken = instance.journal ?? [];
    instance.journal = undefined;
    return taken;
  };
  for (const writer of everyWriter()) entries.push(...(await runInDurableObject(writer, take)));
  if (SHARDS > 1) entries.push(...(await runInDurableObject(coordinator(), take)));
  return entries.sort((a, b) => a.order! - b.order!);
}

/** Calls the coordinator decided since `startJournals` (its journal only; it goes on). */
export async function coordinatorJournalLength(): Promise<number> {
  if (SHARDS === 1) return 0;
  return runInDurableObject(
    coordinator(),
    (instance: GraphCoordinator) => instance.journal?.length ?? 0,
  );
}

/**
 * The rows of `table` in every writer's own SQLite, once each (a graph history row two
 * components share, or a suppression kept by an index shard too, is in several), by `order`.
 */
export async function writerRows(table: string, order: string): Promise<Record<string, unknown>[]> {
  const keys = order.split(",").map((c) => c.trim());
  const rows = new Map<string, Record<string, unknown>>();
  for (const writer of everyWriter())
    for (const row of await runInDurableObject(writer, (_: GraphWriter, state) =>
      state.storage.sql.exec(`SELECT * FROM ${table}`).toArray(),
    ))
      rows.set(JSON.stringify(keys.map((k) => row[k])), row);
  return [...rows.values()].sort((a, b) => {
    for (const k of keys) {
      const [x, y] = [a[k] as string | number, b[k] as string | number];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

/** The shard hosting an identity's index bucket: where a new profile of it is born. */
export async function indexShardOf(key: string): Promise<number> {
  const { placement } = await deploymentOf(env);
  return placement.ownerOf(placement.indexBucket(key));
}

/** `count` identity keys made by `make(0)`, `make(1)`, … that are born on `shard`. */
export async function keysOnShard(
  shard: number,
  count: number,
  make: (n: number) => string,
): Promise<string[]> {
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++)
    if ((await indexShardOf(make(n))) === shard) keys.push(make(n));
  return keys;
}

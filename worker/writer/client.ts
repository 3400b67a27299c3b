/**
 * How Worker code reaches the graph's writers. This and `types.ts` are all that code outside
 * `worker/writer/` imports.
 *
 * With one shard (the default) every write goes to the one writer, `graphWriter(env)`. With
 * several (`TESSERA_SHARDS`), `ingestCommand` routes: each call — or, for a non-atomic call,
 * each group of its items — goes to the shard hosting the index bucket of its first identity
 * (where a new profile of it would be born); the shard applies it when everything it names
 * lives there, and otherwise answers `forward`, and the call goes to the coordinator. The
 * shard re-checks in its lane, so a wrong guess here costs a hop, never a wrong write.
 *
 * The API lists what callers may use. The façade's test seams (`hooks`, `journal`) are
 * deliberately left out: tests reach them through `runInDurableObject`.
 */
import { identityKey } from "../../shared/identity/normalize";
import type { GraphEffect } from "../graph/effect";
import { commandKeys } from "../ingest/command-keys";
import type { IngestCommand } from "../ingest/types";
import { type ConsistencyToken, parseToken } from "../lib/consistency";
import { benchRpcMs } from "../lib/d1-latency";
import { sleep } from "../lib/timer-turn";
import type { Bindings } from "../model/bindings";
import type { IdentityRef } from "../model/graph";
import type { ComputedJob, GraphRunJob, SegmentJob, ShardWalk } from "../model/jobs";
import type { GraphCoordinator } from "./coordinator";
import { watermarkRow } from "./projection";
import { type Deployment, loadDeployment, requestedShards } from "./shards/deployment";
import { COORDINATOR_NAME, writerName } from "./shards/names";
import {
  type Consistent,
  type DryRunApplied,
  type GraphWriterApi,
  type IngestApplied,
  isRelocated,
  type Relocated,
} from "./types";

type RetentionWriterApi = Pick<GraphWriterApi, "expireEvents" | "expireProfiles">;

import type { GraphWriter } from "./writer";

/** The Durable Object classes, for `runInDurableObject` in tests and the Worker's exports. */
export type { GraphCoordinator, GraphWriter };

/** The first (with one shard, the only) writer. */
export function graphWriter(env: Bindings): DurableObjectStub<GraphWriter> {
  return shardWriter(env, 0);
}

/** Owner shard `shard`'s writer. */
export function shardWriter(env: Bindings, shard: number): DurableObjectStub<GraphWriter> {
  return env.GRAPH_WRITER.get(env.GRAPH_WRITER.idFromName(writerName(shard)));
}

export function graphCoordinator(env: Bindings): DurableObjectStub<GraphCoordinator> {
  return env.GRAPH_COORDINATOR.get(env.GRAPH_COORDINATOR.idFromName(COORDINATOR_NAME));
}

let deployment: Promise<Deployment> | undefined;

/** The deployment's shards and placement, read once per isolate (the setting never changes). */
export function deploymentOf(env: Bindings): Promise<Deployment> {
  if (!deployment) {
    deployment = loadDeployment(env.DB, requestedShards(env));
    deployment.catch(() => (deployment = undefined));
  }
  return deployment;
}

/** Answers of "wait" before a call goes to the coordinator (which finishes any transaction a crash left). */
const WAITS = 6;

/** One ingest call, applied by the shard that holds what it names or by the coordinator. */
export async function ingestCommand(env: Bindings, command: IngestCommand): Promise<IngestApplied> {
  const { shards, placement } = await deploymentOf(env);
  if (shards === 1) return graphWriter(env).ingest(command);
  const home = (items: IngestCommand["items"]) =>
    placement.ownerOf(placement.indexBucket(commandKeys({ ...command, items })[0]!));
  if (command.atomic || command.items.length === 1)
    return routed(env, home(command.items), command);
  // A non-atomic call: each item is applied once, in call order within its shard (SPEC §6).
  const parts = new Map<number, IngestCommand["items"]>();
  for (const item of command.items) {
    const shard = home([item]);
    parts.set(shard, [...(parts.get(shard) ?? []), item]);
  }
  const applied = await Promise.all(
    [...parts].map(([shard, items]) => routed(env, shard, { ...command, items })),
  );
  return combined(applied);
}

async function routed(
  env: Bindings,
  first: number,
  command: IngestCommand,
): Promise<IngestApplied> {
  const rpcMs = benchRpcMs(env);
  let shard = first;
  for (let attempt = 0; attempt < WAITS; attempt++) {
    if (rpcMs) await sleep(rpcMs);
    const answer = await shardWriter(env, shard).ingest(command);
    if (!answer.forward) return answer;
    if (answer.forward === "coordinator") break;
    if (answer.forward === "shard") shard = answer.shard!;
    else await sleep(5 * 2 ** attempt);
  }
  if (rpcMs) await sleep(rpcMs);
  return graphCoordinator(env).ingest(command);
}

/** The parts of a call applied by several shards, as one answer (the token D1 holds the latest state of). */
function combined(parts: IngestApplied[]): IngestApplied {
  const tokens = parts
    .map((p) => p.consistency)
    .filter((t): t is string => t !== undefined)
    .sort((a, b) => (parseToken(b)?.bookmark ?? "").localeCompare(parseToken(a)?.bookmark ?? ""));
  return {
    outcomes: parts.flatMap((p) => p.outcomes).sort((a, b) => a.index - b.index),
    profiles: [...new Set(parts.flatMap((p) => p.profiles))],
    lane: parts[0]!.lane,
    ...(tokens[0] ? { consistency: tokens[0] } : {}),
  };
}

/**
 * A signed-in visitor's device seen with their identity (`/v1/context`): links them. The
 * person's profile id, or undefined when the identity is suppressed.
 */
export async function linkDevice(
  env: Bindings,
  device: string,
  identity: IdentityRef,
  at: number,
): Promise<string | undefined> {
  const applied = await ingestCommand(env, {
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

/**
 * Waits (bounded) until D1's projection holds the write a token names: its shard's commit
 * `seq`. A coordinator's answer came after D1 applied it, and a token naming no shard of
 * this deployment (altered, or from another one) waits for nothing.
 */
export async function projectedUpTo(env: Bindings, token: ConsistencyToken): Promise<void> {
  const { shards } = await deploymentOf(env);
  if (token.shard >= shards) return;
  const applied = await env.DB.prepare("SELECT applied_seq FROM projection_state WHERE id = ?1")
    .bind(watermarkRow(token.shard))
    .first<number>("applied_seq");
  if (applied !== null && applied < token.seq)
    await shardWriter(env, token.shard).awaitProjection(token.seq);
}

/**
 * A write on the identity `ref` (delete, erase), run by the shard that holds it: first the
 * shard hosting its index bucket; one that does not hold it says where to look, or to wait
 * while a cross-shard transaction holds it.
 */
async function onOwner<T>(
  env: Bindings,
  ref: IdentityRef,
  call: (writer: DurableObjectStub<GraphWriter>) => Promise<Consistent<T> | Relocated>,
): Promise<Consistent<T>> {
  const { shards, placement } = await deploymentOf(env);
  const key = identityKey(ref.namespace, ref.value);
  const indexShard = placement.ownerOf(placement.indexBucket(key));
  let shard = shards === 1 ? 0 : indexShard;
  for (let attempt = 0; attempt < 12; attempt++) {
    const answer = await call(shardWriter(env, shard));
    if (!isRelocated(answer)) return answer;
    if (answer.relocate === "wait") await sleep(Math.min(5 * 2 ** attempt, 1_000));
    else shard = (await shardWriter(env, indexShard).locate(key)) ?? indexShard;
  }
  throw new Error(`the shard holding ${ref.namespace} identities could not be found`);
}

export const deleteIdentity = (env: Bindings, ref: IdentityRef) =>
  onOwner(env, ref, (w) => w.deleteIdentity(ref));

export const deleteLink = (env: Bindings, from: IdentityRef, to: IdentityRef) =>
  onOwner(env, from, (w) => w.deleteLink(from, to));

export const erase = (env: Bindings, ref: IdentityRef, suppress: boolean) =>
  onOwner(env, ref, (w) => w.erase(ref, suppress));

/** Lifts a suppression (by its hash) everywhere it is kept: its owner and the index shards. */
export async function liftSuppression(env: Bindings, hash: string): Promise<Consistent<boolean>> {
  const { shards } = await deploymentOf(env);
  const answers = await Promise.all(
    Array.from({ length: shards }, (_, s) => shardWriter(env, s).liftSuppression(hash)),
  );
  return answers.find((a) => a.value) ?? answers[0]!;
}

// ---- work over every shard ------------------------------------------------------------------

/** Every shard's writer, in shard order. */
async function everyShard(env: Bindings): Promise<DurableObjectStub<GraphWriter>[]> {
  const { shards } = await deploymentOf(env);
  return Array.from({ length: shards }, (_, s) => shardWriter(env, s));
}

/**
 * One page of a walk over every profile or identity (segment evaluation, computed
 * attribute, graph run): at the shard the job's walk is on. The job that comes back may be
 * on the next shard; the caller sends it on as it is.
 */
async function walkPage<J extends { walk?: ShardWalk }>(
  env: Bindings,
  job: J,
  run: (writer: DurableObjectStub<GraphWriter>, job: J) => Promise<J | undefined>,
): Promise<J | undefined> {
  const { shards } = await deploymentOf(env);
  if (shards === 1) return run(graphWriter(env), job);
  const walk = job.walk ?? { shard: 0, shards };
  return run(shardWriter(env, walk.shard), { ...job, walk });
}

export const segmentPage = (env: Bindings, job: SegmentJob) =>
  walkPage(env, job, (w, j) => w.segmentPage(j) as Promise<SegmentJob | undefined>);

export const computedPage = (env: Bindings, job: ComputedJob) =>
  walkPage(env, job, (w, j) => w.computedPage(j) as Promise<ComputedJob | undefined>);

export const graphRunPage = (env: Bindings, job: GraphRunJob) =>
  walkPage(env, job, (w, j) => w.graphRunPage(j) as Promise<GraphRunJob | undefined>);

/** One slice of cron rechecks on every shard; how many profiles and identities were re-evaluated. */
export async function rechecks(env: Bindings, now: number): Promise<number> {
  const counts = await Promise.all((await everyShard(env)).map((w) => w.rechecks(now)));
  return counts.reduce((a, b) => a + b, 0);
}

/** Configuration the writers apply changed: every shard, and the coordinator, reload it. */
export async function configChanged(env: Bindings): Promise<void> {
  const writers = await everyShard(env);
  await Promise.all([
    ...writers.map((w) => w.configChanged()),
    ...(writers.length > 1 ? [graphCoordinator(env).configChanged()] : []),
  ]);
}

/** `GET /v1/admin/shards`: every owner shard, and the coordinator's transactions. */
export async function shardsFigures(env: Bindings) {
  const writers = await everyShard(env);
  const [shards, coordinator] = await Promise.all([
    Promise.all(writers.map((w) => w.shardFigures())),
    // With one shard nothing spans shards: the coordinator has had nothing to do (and is not started).
    writers.length > 1 ? graphCoordinator(env).figures() : { inFlight: 0, committed: 0, busyMs: 0 },
  ]);
  return { shards, coordinator };
}

/**
 * The writer half of retention steps: with several shards, a page of expired events is
 * deleted wherever its events live (each shard in turn, adding to the run's counts), and
 * the profiles phase walks the shards (the run's cursor says which).
 */
export async function retentionWriter(env: Bindings): Promise<RetentionWriterApi> {
  const writers = await everyShard(env);
  if (writers.length === 1) return writers[0]!;
  return {
    // The step is recorded once (its record is guarded by its step number): by the last
    // shard, with what the others deleted. A crash between shards leaves those events
    // deleted and archived but not counted: the run's count can then be short by them.
    async expireEvents(eventIds, now, progress) {
      let deleted = 0;
      for (const [s, writer] of writers.entries()) {
        const last = s === writers.length - 1 && progress !== undefined;
        const record = last
          ? {
              ...progress,
              counts: {
                ...progress.counts,
                eventsExpired: progress.counts.eventsExpired + deleted,
              },
            }
          : undefined;
        deleted += (await writer.expireEvents(eventIds, now, record)).deleted;
      }
      return { deleted };
    },
    expireProfiles: (cutoff, after, now, progress) =>
      writers[progress.cursor.walk?.shard ?? 0]!.expireProfiles(cutoff, after, now, progress),
  };
}

/** What an ingest call would do (SPEC §9 `dryRun`); nothing is written. Across shards, the coordinator looks. */
export async function dryRun(env: Bindings, command: IngestCommand): Promise<DryRunApplied> {
  const { shards } = await deploymentOf(env);
  return shards === 1 ? graphWriter(env).dryRun(command) : graphCoordinator(env).dryRun(command);
}

/** What a configuration change would do to existing graphs in `scope`, over every shard; nothing is written. */
export async function previewConfig(
  env: Bindings,
  ...change: Parameters<GraphWriterApi["previewConfig"]>
): Promise<GraphEffect> {
  const effects = await Promise.all((await everyShard(env)).map((w) => w.previewConfig(...change)));
  if (effects.length === 1) {
    const { examined: _, ...effect } = effects[0]!;
    return effect;
  }
  // Each shard looked at up to the scope's limit; more than that together is truncated too.
  const limit = change[2].limit ?? 1000;
  const examined = effects.reduce((n, e) => n + e.examined, 0);
  return {
    profilesAffected: effects.reduce((n, e) => n + e.profilesAffected, 0),
    graphsChanged: effects.reduce((n, e) => n + e.graphsChanged, 0),
    merges: effects.flatMap((e) => e.merges),
    splits: effects.flatMap((e) => e.splits),
    moves: effects.flatMap((e) => e.moves),
    evictions: effects.flatMap((e) => e.evictions),
    segmentChanges: effects.flatMap((e) => e.segmentChanges),
    sample: effects.flatMap((e) => e.sample).slice(0, 10),
    truncated: effects.some((e) => e.truncated) || examined > limit,
  };
}

/**
 * Where a deployment's graph lives (design/scale-out.md §3.4): its shard count and index
 * salt, set once in D1's settings by the first writer to start, and what follows from them
 * — the bucket → shard directory, the identity index's hash, new profiles' ids. Every
 * isolate and object reads it once; all of them agree because the setting never changes.
 */
import { createDb } from "../../db/client";
import { settingOnce } from "../../db/queries/settings";
import type { Bindings } from "../../model/bindings";
import { type DirectoryTable, initialDirectory, ownerOf } from "../../shards/directory";
import {
  indexBucket,
  indexKey,
  MAX_SHARDS,
  newIndexSalt,
  profileBucket,
  profileIdMinter,
} from "../../shards/placement";
import type { Placement } from "../../shards/protocol";

export interface Deployment {
  shards: number;
  directory: DirectoryTable;
  placement: Placement;
  /** A new profile's id, homed in its anchor identity's index bucket. */
  newProfileId: (anchorKey: string, splitFrom?: string) => string;
}

/** The shard count a new deployment asks for (`TESSERA_SHARDS`, default 1). */
export function requestedShards(env: Pick<Bindings, "TESSERA_SHARDS">): number {
  const text = env.TESSERA_SHARDS?.trim();
  if (!text) return 1;
  const n = Number(text);
  // The coordinator takes the last id range, so a deployment has at most MAX_SHARDS − 1 shards.
  if (!Number.isInteger(n) || n < 1 || n >= MAX_SHARDS)
    throw new Error(
      `TESSERA_SHARDS must be a whole number from 1 to ${MAX_SHARDS - 1}, not "${text}"`,
    );
  return n;
}

export async function loadDeployment(d1: D1Database, requested: number): Promise<Deployment> {
  const { salt, shards = 1 } = await settingOnce(createDb(d1), "placement", {
    salt: newIndexSalt(),
    shards: requested,
  });
  const key = await indexKey(salt);
  const directory = initialDirectory(shards);
  return {
    shards,
    directory,
    placement: {
      indexBucket: (identityKey) => indexBucket(key, identityKey),
      profileBucket,
      ownerOf: (bucket) => ownerOf(directory, bucket),
    },
    newProfileId: profileIdMinter(key),
  };
}

/** The coordinator's row-id range: the last one, never a shard's. */
export const COORDINATOR_RANGE = MAX_SHARDS - 1;

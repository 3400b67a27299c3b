/**
 * Where a profile and an identity live when the graph is split over owner shards
 * (design/scale-out.md §3.4). Plain functions, no storage:
 *
 * - 16,384 fixed buckets. A profile's home bucket is written into its id (v2 ids), so any
 *   isolate can route it without a lookup; ids minted before carry no bucket and hash to one.
 * - An identity's index bucket is a keyed hash of its key: the shard hosting that bucket
 *   decides whether the identity exists (one claim per identity, whatever the shard count),
 *   and crafted identity values cannot pile onto one bucket without the deployment's salt.
 * - Identity row ids are 53 bits (they stay JavaScript-safe integers): 13 bits of the shard
 *   that created the row and a 40-bit counter of that shard, so ids stay unique and stable
 *   when a component moves between shards.
 */
import SipHash from "siphash";
import { base64urlToBytes, bytesToBase64url } from "../../shared/base64url";

export const BUCKETS = 16_384;
const V2_PREFIX = "p";
const V2_LENGTH = 13;

export type Bucket = number;

/** FNV-1a, 32 bits: the fixed bucket of an id minted without one (it must never change). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * A new profile id homed in `bucket`: "p", 3 base64url characters for the bucket (18 bits,
 * 14 used) and 9 for 54 random bits — 13 characters. About 6k profiles per bucket at 100M
 * profiles keep a collision inside a bucket near 10⁻⁹.
 */
export function mintProfileId(bucket: Bucket): string {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKETS)
    throw new RangeError(`bucket ${bucket} is outside 0..${BUCKETS - 1}`);
  const head = new Uint8Array([bucket >> 10, (bucket >> 2) & 0xff, (bucket & 0x3) << 6]); // 18 bits, the last 4 zero
  const random = crypto.getRandomValues(new Uint8Array(7)); // 56 bits, 54 of which fill 9 characters
  return V2_PREFIX + bytesToBase64url(head).slice(0, 3) + bytesToBase64url(random).slice(0, 9);
}

/** Whether `id` carries its bucket (a v2 id). */
export const isBucketedId = (id: string): boolean =>
  id.length === V2_LENGTH && id.startsWith(V2_PREFIX);

/** The home bucket of a profile: written in a v2 id, hashed from any other id (12-character ids, UUIDs). */
export function profileBucket(id: string): Bucket {
  if (isBucketedId(id)) {
    const bytes = base64urlToBytes(`${id.slice(1, 4)}A`); // 4 characters = 3 bytes
    return ((bytes[0]! << 10) | (bytes[1]! << 2) | (bytes[2]! >> 6)) & (BUCKETS - 1);
  }
  return fnv1a(id) % BUCKETS;
}

/** The SipHash key of a deployment: the first 128 bits of SHA-256 of its salt (a secret that never changes). */
export async function indexKey(salt: string): Promise<Uint32Array> {
  const digest = new DataView(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`tessera-index:${salt}`)),
  );
  return new Uint32Array([0, 1, 2, 3].map((i) => digest.getUint32(i * 4, true)));
}

/** A new deployment's index salt: 128 random bits. */
export const newIndexSalt = (): string =>
  bytesToBase64url(crypto.getRandomValues(new Uint8Array(16)));

/**
 * Mints ids for new profiles (the graph workspace's `newProfileId`): a new profile is homed
 * in the index bucket of its anchor identity, so "claim the identity and create the
 * profile" happens on one shard; a part split off a profile stays in that profile's bucket,
 * so a split moves nothing.
 */
export const profileIdMinter =
  (key: Uint32Array) =>
  (anchorKey: string, splitFrom?: string): string =>
    mintProfileId(splitFrom === undefined ? indexBucket(key, anchorKey) : profileBucket(splitFrom));

/** The index bucket of an identity ("namespace:value"), under the deployment's key. */
export const indexBucket = (key: Uint32Array, identityKey: string): Bucket =>
  SipHash.hash_uint(key, identityKey) % BUCKETS;

const SHARD_BITS = 13;
const COUNTER_BITS = 40;
const COUNTER_SPAN = 2 ** COUNTER_BITS;
export const MAX_SHARDS = 2 ** SHARD_BITS;

/** A 53-bit identity row id: the creating shard in the top 13 bits, its counter below. */
export function identityRowId(shard: number, counter: number): number {
  if (!Number.isInteger(shard) || shard < 0 || shard >= MAX_SHARDS)
    throw new RangeError(`shard ${shard} is outside 0..${MAX_SHARDS - 1}`);
  if (!Number.isInteger(counter) || counter < 1 || counter >= COUNTER_SPAN)
    throw new RangeError(`counter ${counter} is outside 1..2^40-1`);
  return shard * COUNTER_SPAN + counter;
}

/** The shard that created an identity row, and its counter there (ids from before shards: shard 0). */
export const splitIdentityRowId = (id: number): { shard: number; counter: number } => ({
  shard: Math.floor(id / COUNTER_SPAN),
  counter: id % COUNTER_SPAN,
});

/** The row ids a shard allocates (identities, graph history): above `low`, below `high`. */
export const idRange = (shard: number): { low: number; high: number } => ({
  low: identityRowId(shard, 1) - 1,
  high: identityRowId(shard, 1) - 1 + COUNTER_SPAN,
});

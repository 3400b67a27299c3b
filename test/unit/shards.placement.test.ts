/** Placement and the directory (design/scale-out.md §3.4): id codecs, bucket maps, cache self-correction. */
import fc from "fast-check";
import SipHash from "siphash";
import { describe, expect, it } from "vitest";
import {
  bucketRanges,
  DirectoryCache,
  type DirectoryTable,
  initialDirectory,
  ownerOf,
  withMove,
} from "../../worker/shards/directory";
import {
  BUCKETS,
  identityRowId,
  indexBucket,
  indexKey,
  isBucketedId,
  MAX_SHARDS,
  mintProfileId,
  profileBucket,
  splitIdentityRowId,
} from "../../worker/shards/placement";

describe("profile ids and buckets", () => {
  it("a v2 id carries its bucket, for every bucket", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: BUCKETS - 1 }), (bucket) => {
        const id = mintProfileId(bucket);
        expect(id).toMatch(/^p[A-Za-z0-9_-]{12}$/);
        expect(isBucketedId(id)).toBe(true);
        expect(profileBucket(id)).toBe(bucket);
      }),
      { numRuns: 2_000 },
    );
    expect(profileBucket(mintProfileId(0))).toBe(0);
    expect(profileBucket(mintProfileId(BUCKETS - 1))).toBe(BUCKETS - 1);
    expect(() => mintProfileId(BUCKETS)).toThrow(RangeError);
    expect(() => mintProfileId(-1)).toThrow(RangeError);
  });

  it("ids minted before buckets keep a fixed bucket, forever the same", () => {
    // Pinned: a change here would move every existing profile.
    expect(profileBucket("550e8400-e29b-41d4-a716-446655440000")).toBe(13608);
    expect(profileBucket("AAECAwQFBgcI")).toBe(3471);
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const bucket = profileBucket(id);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(BUCKETS);
        expect(isBucketedId(id)).toBe(false);
      }),
    );
  });

  it("index buckets are a keyed hash: stable per deployment, different across salts, spread evenly", async () => {
    // The library against the SipHash-2-4 paper's test vector (key 00..0f, message 00..0e).
    const key = new Uint32Array([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
    expect(SipHash.hash_hex(key, new Uint8Array(Array.from({ length: 15 }, (_, i) => i)))).toBe(
      "a129ca6149be45e5",
    );

    const a = await indexKey("deployment-a");
    const b = await indexKey("deployment-b");
    expect(indexBucket(a, "email:ada@example.com")).toBe(
      indexBucket(await indexKey("deployment-a"), "email:ada@example.com"),
    );
    const keys = Array.from({ length: 50_000 }, (_, i) => `email:user${i}@example.com`);
    const moved = keys.filter((k) => indexBucket(a, k) !== indexBucket(b, k)).length;
    expect(moved / keys.length).toBeGreaterThan(0.99);
    // 50,000 keys over 16,384 buckets: about 3 each; none piles up.
    const counts = new Uint16Array(BUCKETS);
    for (const k of keys) counts[indexBucket(a, k)]!++;
    expect(Math.max(...counts)).toBeLessThan(20);
  });

  it("identity row ids carry the creating shard and stay safe integers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_SHARDS - 1 }),
        fc.integer({ min: 1, max: 2 ** 40 - 1 }),
        (shard, counter) => {
          const id = identityRowId(shard, counter);
          expect(Number.isSafeInteger(id)).toBe(true);
          expect(splitIdentityRowId(id)).toEqual({ shard, counter });
        },
      ),
    );
    // Ids from before shards are shard 0's.
    expect(splitIdentityRowId(12345)).toEqual({ shard: 0, counter: 12345 });
    expect(() => identityRowId(MAX_SHARDS, 1)).toThrow(RangeError);
    expect(() => identityRowId(0, 0)).toThrow(RangeError);
  });
});

describe("the directory", () => {
  it("a new deployment spreads the buckets in equal ranges; a move makes a new version", () => {
    const four = initialDirectory(4);
    expect(bucketRanges(four, 0)).toEqual([[0, 4095]]);
    expect(bucketRanges(four, 3)).toEqual([[12288, 16383]]);
    expect(bucketRanges(initialDirectory(1), 0)).toEqual([[0, BUCKETS - 1]]);
    const moved = withMove(four, 5, 2);
    expect(moved.version).toBe(four.version + 1);
    expect(ownerOf(moved, 5)).toBe(2);
    expect(ownerOf(four, 5)).toBe(0); // the old table is unchanged
    expect(bucketRanges(moved, 0)).toEqual([
      [0, 4],
      [6, 4095],
    ]);
    expect(() => initialDirectory(0)).toThrow(RangeError);
  });

  it("the cache loads once, refreshes when a shard knows a newer version, and ignores stale refusals", async () => {
    let current: DirectoryTable = initialDirectory(2);
    let loads = 0;
    const cache = new DirectoryCache(async () => {
      loads++;
      return current;
    });
    const [x, y] = await Promise.all([cache.owner(0), cache.owner(BUCKETS - 1)]);
    expect([x, y, loads]).toEqual([0, 1, 1]);
    current = withMove(current, 0, 1);
    // Until a shard refuses, the copy answers (stale, and that is safe: the shard re-checks).
    expect(await cache.owner(0)).toBe(0);
    expect(await cache.moved({ moved: true, bucket: 0, version: current.version })).toBe(1);
    expect(loads).toBe(2);
    // A refusal from a shard that knows no newer version than the copy costs no load.
    expect(await cache.moved({ moved: true, bucket: 0, version: 1 })).toBe(1);
    expect(loads).toBe(2);
    expect(cache.version).toBe(2);
  });
});

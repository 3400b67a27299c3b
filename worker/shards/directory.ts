/**
 * The bucket → shard directory (design/scale-out.md §3.4): a versioned table every isolate
 * caches whole (16,384 entries). A shard knows which buckets it hosts and answers
 * `{ moved, version }` for any other, so a stale cache costs one refresh, never a wrong
 * write — which is why the cached copy may lag.
 */
import { BUCKETS, type Bucket } from "./placement";

export interface DirectoryTable {
  /** Increases with every change; a cache older than a shard's answer refreshes. */
  version: number;
  /** Bucket → shard. */
  shards: Uint16Array;
}

/** A new deployment's directory: `shardCount` shards, each hosting one contiguous range of buckets. */
export function initialDirectory(shardCount: number): DirectoryTable {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > BUCKETS)
    throw new RangeError(`a deployment has 1..${BUCKETS} shards, not ${shardCount}`);
  const shards = new Uint16Array(BUCKETS);
  for (let b = 0; b < BUCKETS; b++) shards[b] = Math.floor((b * shardCount) / BUCKETS);
  return { version: 1, shards };
}

export const ownerOf = (table: DirectoryTable, bucket: Bucket): number => table.shards[bucket]!;

/** The buckets a shard hosts, as inclusive ranges (what `GET /v1/admin/shards` shows). */
export function bucketRanges(table: DirectoryTable, shard: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let b = 0; b < BUCKETS; b++) {
    if (table.shards[b] !== shard) continue;
    const last = ranges.at(-1);
    if (last && last[1] === b - 1) last[1] = b;
    else ranges.push([b, b]);
  }
  return ranges;
}

/** The directory after `bucket` moved to `shard`: a new version. */
export function withMove(table: DirectoryTable, bucket: Bucket, shard: number): DirectoryTable {
  const shards = table.shards.slice();
  shards[bucket] = shard;
  return { version: table.version + 1, shards };
}

/** A shard's answer for a bucket it does not host. */
interface Moved {
  moved: true;
  bucket: Bucket;
  version: number;
}

/**
 * An isolate's copy of the directory. `owner` answers from the copy; `moved` is called with a
 * shard's refusal and refreshes when the shard knows a newer version than the copy, so a
 * burst of refusals for one change costs one load.
 */
export class DirectoryCache {
  private table: DirectoryTable | undefined;
  private loading: Promise<DirectoryTable> | undefined;

  constructor(private readonly load: () => Promise<DirectoryTable>) {}

  async owner(bucket: Bucket): Promise<number> {
    return ownerOf(await this.current(), bucket);
  }

  get version(): number | undefined {
    return this.table?.version;
  }

  /** A shard refused `bucket`: refresh unless the copy already is at least as new as the shard's directory. */
  async moved(refusal: Moved): Promise<number> {
    if (!this.table || this.table.version < refusal.version) {
      this.table = undefined;
      await this.current();
    }
    return this.owner(refusal.bucket);
  }

  private async current(): Promise<DirectoryTable> {
    if (this.table) return this.table;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    const table = await this.loading;
    // A slower, older load never replaces a newer copy.
    const held = this.table as DirectoryTable | undefined;
    if (!held || held.version < table.version) this.table = table;
    return this.table ?? table;
  }
}

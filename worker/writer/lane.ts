/**
 * The write lane: the one serial section every graph write passes through (SPEC rule 6),
 * with group commit. Work waits in three queues:
 *
 * - ingest calls: everything waiting when the lane is free becomes one group (up to
 *   `maxGroupItems` items), applied in arrival order and committed in one batch;
 * - exclusive operations (identity and link deletes, erase): each runs alone, before the
 *   next group, so it waits for at most the group in progress;
 * - background slices (segment backfill pages, cron rechecks): one slice after each
 *   group, so they never starve and never hold ingestion back for more than a slice.
 *
 * Everything queued at one time is concurrent (no caller has had an answer yet), so any
 * order among them is one a sequential run could produce. A group that fails is split in
 * halves and retried, down to single calls: nothing of a failed batch was written, and
 * only the call that fails alone gets the error.
 */
interface LaneStats {
  groups: number;
  calls: number;
  /** Group sizes seen (calls per group): size → count. */
  sizes: Map<number, number>;
  retriedGroups: number;
}

interface Waiting<I, O> {
  input: I;
  size: number;
  resolve(value: O): void;
  reject(error: unknown): void;
}

interface Task {
  run(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class WriteLane<I, O> {
  private readonly calls: Waiting<I, O>[] = [];
  private readonly exclusive: Task[] = [];
  private readonly background: Task[] = [];
  private draining = false;
  readonly stats: LaneStats = { groups: 0, calls: 0, sizes: new Map(), retriedGroups: 0 };

  constructor(
    /** Applies and commits a group; one result per input, in order. */
    private readonly commitGroup: (inputs: I[]) => Promise<O[]>,
    private readonly options: {
      maxGroupItems: number;
      sizeOf: (input: I) => number;
      /**
       * Awaited before a group is taken: the store's pace. While it waits, calls keep
       * queueing, so the next group is larger (fewer, bigger commits to project).
       */
      pace?: () => Promise<void>;
    },
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.calls.push({ input, size: this.options.sizeOf(input), resolve, reject });
      this.kick();
    });
  }

  runExclusive<T>(run: () => Promise<T>): Promise<T> {
    return this.enqueue(this.exclusive, run);
  }

  runInBackground<T>(run: () => Promise<T>): Promise<T> {
    return this.enqueue(this.background, run);
  }

  private enqueue<T>(queue: Task[], run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    // Start on a later turn, so calls that arrive together form one group.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.calls.length + this.exclusive.length + this.background.length > 0) {
        while (this.exclusive.length > 0) await runTask(this.exclusive.shift()!);
        if (this.calls.length > 0) {
          await this.options.pace?.();
          await this.runGroup(this.takeGroup());
        }
        if (this.background.length > 0) await runTask(this.background.shift()!);
      }
    } finally {
      this.draining = false;
    }
  }

  private takeGroup(): Waiting<I, O>[] {
    const group: Waiting<I, O>[] = [];
    let items = 0;
    while (
      this.calls.length > 0 &&
      (group.length === 0 || items + this.calls[0]!.size <= this.options.maxGroupItems)
    ) {
      const next = this.calls.shift()!;
      items += next.size;
      group.push(next);
    }
    return group;
  }

  private async runGroup(group: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.commitGroup(group.map((w) => w.input));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // Nothing was written: retry in halves, so only a call that fails alone fails.
      this.stats.retriedGroups++;
      const half = Math.ceil(group.length / 2);
      await this.runGroup(group.slice(0, half));
      await this.runGroup(group.slice(half));
      return;
    }
    this.stats.groups++;
    this.stats.calls += group.length;
    this.stats.sizes.set(group.length, (this.stats.sizes.get(group.length) ?? 0) + 1);
    group.forEach((w, i) => w.resolve(results[i]!));
  }
}

async function runTask(task: Task): Promise<void> {
  try {
    task.resolve(await task.run());
  } catch (error) {
    task.reject(error);
  }
}

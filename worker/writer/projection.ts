/**
 * The commit log of the writer's own SQLite, and its projection into D1.
 *
 * Each commit appends its statements (SQL and arguments) to the log (`_commit_slots`) in the
 * same local transaction as the change, under the next sequence number. A single drain loop
 * applies the log to D1 in sequence order: as many entries as fit in one D1 `batch()` (one atomic
 * transaction), with `projection_state.applied_seq` moved in that same batch. D1's copy of
 * the graph tables started equal to the writer's (both empty, same migrations), and every
 * statement is deterministic given equal tables, so replaying the log keeps them equal.
 *
 * At least once, never twice: the watermark is read from D1 at start and again after any
 * failed batch (the batch may have committed and only its answer been lost), and entries at
 * or below it are skipped. A crash between a commit and its projection loses nothing: the
 * log is durable, and the object's alarm (set while anything is pending) wakes it to drain.
 *
 * The log lives in reusable slots (`_commit_slots`): a commit overwrites the slot of an entry
 * D1 already holds, else adds one. An entry costs one row write, where inserting it and
 * deleting it once applied cost two — for a single page view, that was a fifth of its rows.
 * The table stays as large as the deepest backlog it has seen.
 */

import { timerTurn } from "../lib/timer-turn";
import type { PortableStatement } from "./local-sql";

/** Statements per D1 batch: far below D1's limits on a batch's time and size. */
const BATCH_STATEMENTS = 400;
/** Log entries read per turn of the drain. */
const LOG_PAGE = 64;
/** How long the lane waits for the projection before it commits the next group anyway. */
const PACE_LIMIT_MS = 1_000;
/** How long a caller waits for its commit to reach D1 before it is answered anyway (its write is durable). */
const WAIT_LIMIT_MS = 10_000;

/** How often waits past their limit are checked: one timer for all of them. */
const DEADLINE_CHECK_MS = 250;

interface Waiter {
  seq: number;
  deadline: number;
  resolve: (bookmark: string | undefined) => void;
}

interface Paced {
  commits: number;
  deadline: number;
  resolve: () => void;
}

interface ProjectionFigures {
  committedSeq: number;
  appliedSeq: number;
  /** Milliseconds from commit to applied, for the most recent entries (the bench's lag figure). */
  lagMs: number[];
}

export class Projection {
  private applied = 0;
  private committed = 0;
  private draining?: Promise<void>;
  private waiters: Waiter[] = [];
  private afterApplied: { seq: number; run: () => void }[] = [];
  private readonly commitTimes = new Map<number, number>();
  private readonly lag: number[] = [];
  private alarmSet = false;
  private paced: Paced[] = [];
  /** Committed entries D1 does not hold yet, as this object made them (the log holds them too). */
  private readonly unapplied = new Map<number, readonly PortableStatement[]>();
  /** The one timer that ends waits past their limit, while any wait. */
  private deadlineTimer: ReturnType<typeof setInterval> | undefined;
  /** The D1 Sessions bookmark after the last applied batch. */
  private bookmark: string | undefined;
  /** Rows D1 wrote applying the log (its own `rows_written`: table and index entries). */
  rowsWritten = 0;
  /** Rows the log itself cost the object's SQLite (an entry written, later removed). */
  logRowsWritten = 0;

  /** This writer's row in D1's `projection_state` (one per shard: shard + 1). */
  private readonly row: number;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly d1: D1Database,
    shard = 0,
  ) {
    this.row = watermarkRow(shard);
  }

  /** At start: the log table, D1's watermark, and a drain of anything a crash left behind. */
  async start(): Promise<void> {
    this.createLog();
    await this.d1
      .prepare(
        "INSERT OR IGNORE INTO projection_state (id, applied_seq, updated_at) VALUES (?1, 0, ?2)",
      )
      .bind(this.row, Date.now())
      .run();
    this.applied = await this.readWatermark();
    const last = this.storage.sql
      .exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM _commit_slots")
      .one().seq;
    this.committed = Math.max(this.applied, last ?? 0);
    if (this.committed > this.applied) this.drain();
  }

  /** The sequence number the next commit will take. */
  nextSeq(): number {
    return this.committed + 1;
  }

  /** Inside the commit's transaction: records its statements under `seq`, in a free slot if there is one. */
  record(seq: number, statements: readonly PortableStatement[]): void {
    const text = JSON.stringify(statements);
    const now = Date.now();
    const reused = this.storage.sql.exec(
      `UPDATE _commit_slots SET seq = ?1, statements = ?2, at = ?3
       WHERE slot = (SELECT slot FROM _commit_slots WHERE seq <= ?4 LIMIT 1)`,
      seq,
      text,
      now,
      this.applied,
    ).rowsWritten;
    this.logRowsWritten +=
      reused ||
      this.storage.sql.exec(
        "INSERT INTO _commit_slots (seq, statements, at) VALUES (?, ?, ?)",
        seq,
        text,
        now,
      ).rowsWritten;
  }

  /** After the commit's transaction: the entry is durable; start applying it (from memory). */
  committedUpTo(seq: number, statements: readonly PortableStatement[]): void {
    this.unapplied.set(seq, statements);
    this.committed = seq;
    this.commitTimes.set(seq, Date.now());
    this.ensureAlarm();
    this.drain();
  }

  /**
   * Resolves once D1 holds commit `seq`, with the D1 Sessions bookmark of the batch that
   * applied it (or of a later one). At most WAIT_LIMIT_MS later it resolves without one:
   * the write is durable either way, and a read that presents its token then waits.
   */
  waitFor(seq: number | undefined): Promise<string | undefined> {
    if (seq === undefined || seq <= this.applied) return Promise.resolve(this.bookmark);
    return new Promise((resolve) => {
      this.waiters.push({ seq, deadline: Date.now() + WAIT_LIMIT_MS, resolve });
      this.checkDeadlines();
    });
  }

  /**
   * Resolves when at most `commits` commits wait for D1. The lane awaits it before each
   * group: D1 stays out of the serial section, yet commits are not made faster than D1
   * takes them, and calls that arrive meanwhile join one larger group.
   */
  backlogAtMost(commits: number): Promise<void> {
    if (this.committed - this.applied <= commits) return Promise.resolve();
    return new Promise((resolve) => {
      // Bounded: with D1 unreachable, writes still commit (durably) at a slow pace.
      this.paced.push({ commits, deadline: Date.now() + PACE_LIMIT_MS, resolve });
      this.checkDeadlines();
    });
  }

  /** Runs `run` once D1 holds commit `seq` (e.g. announcing webhook deliveries the consumer reads from D1). */
  onApplied(seq: number | undefined, run: () => void): void {
    if (seq === undefined || seq <= this.applied) run();
    else this.afterApplied.push({ seq, run });
  }

  /** Milliseconds since the oldest commit D1 does not hold yet (0 when it holds all). */
  lagMs(now: number): number {
    const oldest = this.storage.sql
      .exec<{ at: number | null }>(
        "SELECT min(at) AS at FROM _commit_slots WHERE seq > ?",
        this.applied,
      )
      .one().at;
    return oldest === null ? 0 : Math.max(0, now - oldest);
  }

  figures(): ProjectionFigures {
    return { committedSeq: this.committed, appliedSeq: this.applied, lagMs: [...this.lag] };
  }

  /** The alarm: wakes a restarted object to finish draining. */
  async alarm(): Promise<void> {
    this.alarmSet = false;
    this.drain();
    await this.draining;
    if (this.committed > this.applied) this.ensureAlarm();
  }

  /**
   * One interval ends the waits past their limit; it runs while anything waits and stops at
   * its first turn with nothing waiting. A timer per wait cost more: at 32 clients, clearing
   * them took 3 % of the object's CPU.
   */
  private checkDeadlines(): void {
    if (this.waiters.length > 0 || this.paced.length > 0) {
      this.deadlineTimer ??= setInterval(() => this.endOverdue(), DEADLINE_CHECK_MS);
    } else if (this.deadlineTimer !== undefined) {
      clearInterval(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  private endOverdue(): void {
    const now = Date.now();
    const late = this.waiters.filter((w) => w.deadline <= now);
    if (late.length > 0) {
      this.waiters = this.waiters.filter((w) => w.deadline > now);
      console.warn(
        `projection: ${late.length} commits (from ${late[0]!.seq}) not in D1 after ${WAIT_LIMIT_MS} ms (applied ${this.applied}); answering anyway`,
      );
      for (const w of late) w.resolve(undefined);
    }
    const go = this.paced.filter((p) => p.deadline <= now);
    this.paced = this.paced.filter((p) => p.deadline > now);
    for (const p of go) p.resolve();
    this.checkDeadlines();
  }

  private ensureAlarm(): void {
    if (this.alarmSet) return;
    this.alarmSet = true;
    this.storage.setAlarm(Date.now() + 5_000).catch((err) => {
      this.alarmSet = false;
      console.error(`projection: could not set the alarm: ${err}`);
    });
  }

  private drain(): void {
    let failed = false;
    this.draining ??= this.drainLoop()
      .catch(() => {
        failed = true; // logged in the loop; retried below
      })
      .finally(() => {
        this.draining = undefined;
        if (this.committed <= this.applied) return;
        // A failed batch: try again in a second. Otherwise a commit arrived while the loop
        // was ending (its drain() call found it still running): go on at once.
        if (failed) setTimeout(() => this.drain(), 1_000);
        else this.drain();
      });
  }

  private async drainLoop(): Promise<void> {
    while (this.applied < this.committed) {
      const entries = this.nextEntries();
      if (entries.length === 0) return;
      const statements: PortableStatement[] = [];
      let last = this.applied;
      for (const [seq, entry] of entries) {
        if (statements.length > 0 && statements.length + entry.length > BATCH_STATEMENTS) break;
        statements.push(...entry);
        last = seq;
      }
      // A session on the primary, for the bookmark a token carries (reads present it to replicas).
      const session = this.d1.withSession("first-primary");
      try {
        const results = await session.batch([
          ...statements.map((s) => session.prepare(s.sql).bind(...s.args)),
          session
            .prepare("UPDATE projection_state SET applied_seq = ?1, updated_at = ?2 WHERE id = ?3")
            .bind(last, Date.now(), this.row),
        ]);
        // The watermark's own row is bookkeeping, not the commits' cost.
        this.rowsWritten += results
          .slice(0, -1)
          .reduce((n, r) => n + (r.meta?.rows_written ?? 0), 0);
        this.bookmark = session.getBookmark() ?? this.bookmark;
      } catch (err) {
        // The batch may have committed with only its answer lost: believe D1's watermark.
        const watermark = await this.readWatermark().catch(() => this.applied);
        if (watermark < last) {
          console.error(
            `projection: applying commits ${this.applied + 1}–${last} failed (will retry): ${err}`,
          );
          throw err;
        }
        this.bookmark = undefined; // applied, but its bookmark is unknown: tokens send reads to the primary
      }
      this.advance(last);
      // A timer turn between batches: locally, a chain of D1 answers alone holds back new requests.
      if (this.applied < this.committed) await timerTurn();
    }
  }

  /**
   * The entries after the watermark, up to a page: from memory while this object made
   * them, else (after a restart) from the log. Reading the log on every turn was 7 % of the
   * object's CPU under single-event load.
   */
  private nextEntries(): [number, readonly PortableStatement[]][] {
    const entries: [number, readonly PortableStatement[]][] = [];
    for (let seq = this.applied + 1; entries.length < LOG_PAGE; seq++) {
      const entry = this.unapplied.get(seq);
      if (!entry) break;
      entries.push([seq, entry]);
    }
    if (entries.length > 0) return entries;
    return this.storage.sql
      .exec<{ seq: number; statements: string }>(
        "SELECT seq, statements FROM _commit_slots WHERE seq > ? ORDER BY seq LIMIT ?",
        this.applied,
        LOG_PAGE,
      )
      .toArray()
      .map((row) => [row.seq, JSON.parse(row.statements) as PortableStatement[]]);
  }

  private advance(last: number): void {
    for (const seq of this.unapplied.keys()) if (seq <= last) this.unapplied.delete(seq);
    this.applied = last; // slots at or below it are free for the next commits
    const now = Date.now();
    for (const [seq, at] of this.commitTimes) {
      if (seq > last) continue;
      this.lag.push(now - at);
      this.commitTimes.delete(seq);
    }
    if (this.lag.length > 10_000) this.lag.splice(0, this.lag.length - 10_000);
    const ready = this.waiters.filter((w) => w.seq <= last);
    this.waiters = this.waiters.filter((w) => w.seq > last);
    for (const w of ready) w.resolve(this.bookmark);
    const backlog = this.committed - this.applied;
    const go = this.paced.filter((p) => backlog <= p.commits);
    this.paced = this.paced.filter((p) => backlog > p.commits);
    for (const p of go) p.resolve();
    const due = this.afterApplied.filter((job) => job.seq <= last);
    this.afterApplied = this.afterApplied.filter((job) => job.seq > last);
    for (const job of due) job.run();
  }

  /**
   * The slots table; a log written before slots (`_commit_log`, one row per pending entry)
   * moves into it once.
   */
  private createLog(): void {
    const sql = this.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS _commit_slots (slot INTEGER PRIMARY KEY, seq INTEGER NOT NULL, statements TEXT NOT NULL, at INTEGER NOT NULL)",
    );
    const old = sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_commit_log'")
      .toArray();
    if (old.length === 0) return;
    this.storage.transactionSync(() => {
      sql.exec(
        "INSERT INTO _commit_slots (seq, statements, at) SELECT seq, statements, at FROM _commit_log ORDER BY seq",
      );
      sql.exec("DROP TABLE _commit_log");
    });
  }

  private async readWatermark(): Promise<number> {
    return (
      (await this.d1
        .prepare("SELECT applied_seq FROM projection_state WHERE id = ?1")
        .bind(this.row)
        .first<number>("applied_seq")) ?? 0
    );
  }
}

/** A shard's watermark row in D1's `projection_state` (shard 0, the only one before shards, has row 1). */
export const watermarkRow = (shard: number): number => shard + 1;

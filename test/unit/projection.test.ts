/**
 * The writer's commit log and its projection into D1 (worker/writer/projection.ts), in Node:
 * the object's storage and "D1" are two in-memory node:sqlite databases. What it checks: the
 * log costs one row write per commit (a commit reuses the slot of an entry D1 holds), D1
 * gets every commit once and in order, a failed D1 batch is retried without loss, and a log
 * written before slots moves into them.
 */
import { describe, expect, it, vi } from "vitest";
import type { PortableStatement } from "../../worker/writer/local-sql";
import { Projection } from "../../worker/writer/projection";
import { DatabaseSync, type SqliteDb, sqliteStorage } from "./sqlite-storage";

/** The parts of `D1Database` the projection uses, over node:sqlite; `failNext` makes the next batch throw. */
function sqliteD1(db: SqliteDb) {
  const control = { failNext: 0, batches: 0 };
  const prepare = (sql: string) => {
    let args: (string | number | null)[] = [];
    const statement = {
      bind(...values: (string | number | null)[]) {
        args = values;
        return statement;
      },
      apply() {
        const changes = Number(db.prepare(sql).run(...args).changes);
        return { meta: { rows_written: changes } };
      },
      async run() {
        return statement.apply();
      },
      async first(column?: string) {
        const row = db.prepare(sql).get(...args) as Record<string, unknown> | undefined;
        return row === undefined ? null : column ? row[column] : row;
      },
    };
    return statement;
  };
  const session = {
    prepare,
    async batch(statements: ReturnType<typeof prepare>[]) {
      control.batches++;
      if (control.failNext > 0) {
        control.failNext--;
        throw new Error("D1 unavailable");
      }
      db.exec("BEGIN");
      try {
        const results = statements.map((s) => s.apply());
        db.exec("COMMIT");
        return results;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    getBookmark: () => `bookmark-${control.batches}`,
  };
  const d1 = { prepare, withSession: () => session } as unknown as D1Database;
  return { d1, control };
}

function setup(objectDb?: SqliteDb) {
  const { db: local, storage } = sqliteStorage(objectDb);
  const remote = new DatabaseSync(":memory:");
  remote.exec(
    "CREATE TABLE projection_state (id INTEGER PRIMARY KEY, applied_seq INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
  );
  remote.exec("CREATE TABLE items (n INTEGER PRIMARY KEY)");
  local.exec("CREATE TABLE IF NOT EXISTS items (n INTEGER PRIMARY KEY)");
  const { d1, control } = sqliteD1(remote);
  return { local, remote, storage, d1, control };
}

/** One commit: an item written locally and logged, as the commit step does. */
function commit(projection: Projection, storage: DurableObjectStorage, n: number): number {
  const seq = projection.nextSeq();
  const statement: PortableStatement = { sql: "INSERT INTO items (n) VALUES (?)", args: [n] };
  storage.transactionSync(() => {
    storage.sql.exec(statement.sql, ...(statement.args as number[]));
    projection.record(seq, [statement]);
  });
  projection.committedUpTo(seq, [statement]);
  return seq;
}

const items = (db: SqliteDb) =>
  (db.prepare("SELECT n FROM items ORDER BY n").all() as { n: number }[]).map((r) => r.n);
const slots = (db: SqliteDb) =>
  (db.prepare("SELECT count(*) AS n FROM _commit_slots").get() as { n: number }).n;

describe("the commit log's projection into D1", () => {
  it("applies every commit once, in order, and a commit after D1 caught up reuses a slot (one row write)", async () => {
    const { local, remote, storage, d1 } = setup();
    const projection = new Projection(storage, d1);
    await projection.start();

    for (let n = 1; n <= 3; n++) await projection.waitFor(commit(projection, storage, n));
    expect(items(remote)).toEqual([1, 2, 3]);
    expect(slots(local)).toBe(1); // each commit reused the slot of the one before
    expect(projection.logRowsWritten).toBe(3);

    // Commits made while D1 is behind take slots of their own; once applied, they are free again.
    const seqs = [4, 5, 6].map((n) => commit(projection, storage, n));
    await projection.waitFor(seqs.at(-1));
    expect(items(remote)).toEqual([1, 2, 3, 4, 5, 6]);
    const afterBacklog = slots(local);
    expect(afterBacklog).toBeGreaterThanOrEqual(1);
    expect(afterBacklog).toBeLessThanOrEqual(3);
    await projection.waitFor(commit(projection, storage, 7));
    expect(slots(local)).toBe(afterBacklog);
    expect(projection.logRowsWritten).toBe(7);
    expect(
      (remote.prepare("SELECT applied_seq AS s FROM projection_state").get() as { s: number }).s,
    ).toBe(7);
  });

  it("retries a failed D1 batch without losing or repeating a commit, and never overwrites an entry D1 lacks", async () => {
    const { local, remote, storage, d1, control } = setup();
    const projection = new Projection(storage, d1);
    await projection.start();
    await projection.waitFor(commit(projection, storage, 1));

    control.failNext = 1;
    const seqs = [2, 3, 4].map((n) => commit(projection, storage, n));
    // The log holds what D1 lacks, each in a slot of its own.
    const pending = local
      .prepare("SELECT seq FROM _commit_slots WHERE seq > 1 ORDER BY seq")
      .all() as { seq: number }[];
    expect(pending.map((r) => r.seq)).toEqual(seqs);
    await projection.waitFor(seqs.at(-1));
    expect(items(remote)).toEqual([1, 2, 3, 4]);
    expect(control.batches).toBeGreaterThanOrEqual(3); // the first, the failed one, its retry
  });

  it("with D1 down, a caller is answered after 10 s without a bookmark, and the lane paces itself for at most 1 s", async () => {
    const { storage, d1, control } = setup();
    const projection = new Projection(storage, d1);
    await projection.start();
    vi.useFakeTimers();
    try {
      control.failNext = 1_000;
      const seq = commit(projection, storage, 1);
      let answered: string | undefined | null = null;
      void projection.waitFor(seq).then((bookmark) => {
        answered = bookmark;
      });
      let paced = false;
      void projection.backlogAtMost(0).then(() => {
        paced = true;
      });
      await vi.advanceTimersByTimeAsync(900);
      expect(paced).toBe(false);
      await vi.advanceTimersByTimeAsync(400);
      expect(paced).toBe(true);
      expect(answered).toBeNull();
      await vi.advanceTimersByTimeAsync(9_000);
      expect(answered).toBeUndefined();
      // D1 back: the commit is applied and nothing waits any more.
      control.failNext = 0;
      await vi.advanceTimersByTimeAsync(1_500);
      expect(projection.figures().appliedSeq).toBe(seq);
    } finally {
      vi.useRealTimers();
    }
  });

  it("after a restart, drains what a crash left in the log, and moves a log written before slots into them", async () => {
    const objectDb = new DatabaseSync(":memory:");
    const first = setup(objectDb);
    // A log as the previous version kept it: one row per entry D1 does not hold yet.
    objectDb.exec(
      "CREATE TABLE _commit_log (seq INTEGER PRIMARY KEY, statements TEXT NOT NULL, at INTEGER NOT NULL)",
    );
    const insert = objectDb.prepare(
      "INSERT INTO _commit_log (seq, statements, at) VALUES (?, ?, ?)",
    );
    for (const n of [1, 2]) {
      objectDb.prepare("INSERT INTO items (n) VALUES (?)").run(n);
      insert.run(n, JSON.stringify([{ sql: "INSERT INTO items (n) VALUES (?)", args: [n] }]), 0);
    }
    const projection = new Projection(first.storage, first.d1);
    await projection.start();
    await projection.waitFor(2);
    expect(items(first.remote)).toEqual([1, 2]);
    const tables = objectDb
      .prepare("SELECT name FROM sqlite_master WHERE name LIKE '_commit%' ORDER BY name")
      .all() as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(["_commit_slots"]);
    expect(projection.nextSeq()).toBe(3);
  });
});

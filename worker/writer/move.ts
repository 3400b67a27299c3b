/**
 * Moving a graph that D1 holds into the writer's own SQLite, while the writer keeps serving
 * (SPEC §6: "an existing deployment upgrades in place … counts and checksums compared before
 * the move completes").
 *
 * While it moves, D1 stays the truth and every commit is mirrored into the local copy
 * (`MovingStore` in `state.ts`). Background slices between ingest groups then:
 *
 *  1. copy   each graph table in pages of its primary key: the page's rows are read from D1
 *            and replace that key range locally (rows gone from D1 go locally too). A slice
 *            runs in the lane, so the range is equal on both sides when it ends, and the
 *            mirrored commits keep it equal: a statement applied to equal rows has equal
 *            effects. A row changed before its page was copied is fixed by the copy.
 *  2. verify every table again, page by page on both sides; a page that differs is copied
 *            again and the pass is not clean. Per table it keeps the row count and a
 *            SHA-256 chain over the pages, for D1 and locally.
 *  3. flip   after a clean pass, alone in the lane: counts compared once more on both sides,
 *            then the writer records `local`, D1's projection watermark starts at 0, and
 *            from the next commit on D1 is the projection of the local store.
 *
 * Progress is recorded in the object's SQLite after every slice, so an evicted or
 * restarted object resumes where it was.
 */
import { sha256Hex } from "../../shared/digest";

interface MovedTable {
  name: string;
  /** Its primary key, in the key's own order (the order pages are read in). */
  key: string[];
}

/**
 * The graph's tables, in copy order. The report tables (rollups, message firsts) stay in
 * D1 only: the writer does not keep them (`PROJECTION_ONLY` in local-sql.ts).
 */
export const MOVED_TABLES: readonly MovedTable[] = [
  { name: "identities", key: ["id"] },
  { name: "links", key: ["a_id", "b_id"] },
  { name: "profiles", key: ["id"] },
  { name: "fragments", key: ["identity_id", "dataset"] },
  { name: "attribute_index", key: ["path", "value", "identity_id", "dataset"] },
  { name: "profile_terms", key: ["term", "profile_id"] },
  { name: "memberships", key: ["segment_id", "profile_id"] },
  { name: "graph_history", key: ["id"] },
  { name: "graph_history_profiles", key: ["profile_id", "history_id"] },
  { name: "suppressions", key: ["hash"] },
  { name: "events", key: ["id"] },
  { name: "computed_rechecks", key: ["identity_id"] },
  { name: "consent_records", key: ["identity_id", "purpose", "at", "recorded_at"] },
];

/** Rows per slice: a slice stays well under a millisecond budget per 100 rows locally. */
const PAGE = 500;
/** Verify passes before the move gives up and waits for the next start (something keeps diverging). */
const MAX_PASSES = 5;

type Row = Record<string, unknown>;
type Key = (string | number | null)[];

export interface TableCheck {
  rows: number;
  /** SHA-256 chain over the table's pages, on each side. */
  d1: string;
  local: string;
}

export interface MoveStatus {
  phase: "copy" | "verify" | "done" | "stuck";
  /** Index into MOVED_TABLES of the table being worked on. */
  table: number;
  /** The last key done in that table (null: from the start). */
  after: Key | null;
  pass: number;
  /** Pages that differed in the current verify pass (0 at its end: the pass was clean). */
  mismatches: number;
  /** Rows copied so far (all passes). */
  copied: number;
  /** Per table, from the last verify pass. */
  checks: Record<string, TableCheck>;
  startedAt: number;
  finishedAt?: number;
}

const STATE_KEY = "graph_move";

export function newMoveStatus(now: number): MoveStatus {
  return {
    phase: "copy",
    table: 0,
    after: null,
    pass: 0,
    mismatches: 0,
    copied: 0,
    checks: {},
    startedAt: now,
  };
}

export function readMoveStatus(storage: DurableObjectStorage): MoveStatus | undefined {
  const row = storage.sql
    .exec<{ value: string }>("SELECT value FROM _writer_state WHERE key = ?", STATE_KEY)
    .toArray()[0];
  return row ? (JSON.parse(row.value) as MoveStatus) : undefined;
}

function writeMoveStatus(storage: DurableObjectStorage, status: MoveStatus): void {
  storage.sql.exec(
    "INSERT OR REPLACE INTO _writer_state (key, value) VALUES (?, ?)",
    STATE_KEY,
    JSON.stringify(status),
  );
}

const columnsOf = (key: string[]) => key.map((k) => `"${k}"`).join(", ");
const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** `WHERE` for the key range (after, upTo] of a table (either end open when absent). */
function keyRange(table: MovedTable, after: Key | null, upTo?: Key): { where: string; args: Key } {
  const cols = columnsOf(table.key);
  const clauses: string[] = [];
  const args: Key = [];
  if (after) {
    clauses.push(`(${cols}) > (${placeholders(after.length)})`);
    args.push(...after);
  }
  if (upTo) {
    clauses.push(`(${cols}) <= (${placeholders(upTo.length)})`);
    args.push(...upTo);
  }
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", args };
}

function pageSql(table: MovedTable, after: Key | null, upTo?: Key): { sql: string; args: Key } {
  const range = keyRange(table, after, upTo);
  return {
    sql: `SELECT * FROM "${table.name}"${range.where} ORDER BY ${columnsOf(table.key)}`,
    args: range.args,
  };
}

export class GraphMove {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly d1: D1Database,
    readonly status: MoveStatus,
  ) {}

  /** A mirrored commit failed locally: the copy may differ somewhere, so a clean pass must follow. */
  diverged(): void {
    if (this.status.phase === "verify") this.status.mismatches++;
    writeMoveStatus(this.storage, this.status);
  }

  /** One slice of copy or verify (run in the lane); true when the move is ready to flip. */
  async step(): Promise<boolean> {
    const s = this.status;
    if (s.phase === "done" || s.phase === "stuck") return s.phase === "done";
    const table = MOVED_TABLES[s.table];
    if (!table) {
      // The end of a pass.
      if (s.phase === "copy" || s.mismatches > 0) {
        s.pass++;
        if (s.pass > MAX_PASSES) {
          s.phase = "stuck";
          console.error(
            `graph move: ${MAX_PASSES} verify passes found differences; staying on D1 until the next start`,
          );
        } else
          Object.assign(s, { phase: "verify", table: 0, after: null, mismatches: 0, checks: {} });
        writeMoveStatus(this.storage, s);
        return false;
      }
      writeMoveStatus(this.storage, s);
      return true; // a clean verify pass
    }

    const page = pageSql(table, s.after);
    const rows = (
      await this.d1
        .prepare(`${page.sql} LIMIT ${PAGE}`)
        .bind(...page.args)
        .all<Row>()
    ).results;
    const last =
      rows.length === PAGE
        ? table.key.map((k) => rows.at(-1)![k] as string | number | null)
        : undefined;
    if (s.phase === "copy") {
      this.replaceRange(table, s.after, last, rows);
      s.copied += rows.length;
    } else {
      const range = pageSql(table, s.after, last);
      const mine = this.storage.sql
        .exec<Record<string, SqlStorageValue>>(range.sql, ...range.args)
        .toArray();
      const theirs = JSON.stringify(rows.map((r) => Object.values(r)));
      const ours = JSON.stringify(mine.map((r) => Object.values(r)));
      const check = (s.checks[table.name] ??= { rows: 0, d1: "", local: "" });
      check.rows += rows.length;
      check.d1 = await sha256Hex(check.d1 + (await sha256Hex(theirs)));
      check.local = await sha256Hex(check.local + (await sha256Hex(ours)));
      if (theirs !== ours) {
        s.mismatches++;
        this.replaceRange(table, s.after, last, rows);
        s.copied += rows.length;
      }
    }
    if (last) s.after = last;
    else Object.assign(s, { table: s.table + 1, after: null });
    writeMoveStatus(this.storage, s);
    return false;
  }

  /**
   * Alone in the lane, after a clean pass: row counts compared once more on both sides.
   * True when the local copy may become the truth.
   */
  async countsAgree(): Promise<boolean> {
    for (const table of MOVED_TABLES) {
      const theirs = await this.d1
        .prepare(`SELECT count(*) AS n FROM "${table.name}"`)
        .first<number>("n");
      const ours = this.storage.sql
        .exec<{ n: number }>(`SELECT count(*) AS n FROM "${table.name}"`)
        .one().n;
      if (theirs !== ours) {
        console.error(
          `graph move: ${table.name} has ${theirs} rows in D1 and ${ours} locally; verifying again`,
        );
        Object.assign(this.status, {
          phase: "verify",
          table: 0,
          after: null,
          mismatches: 1,
          checks: {},
        });
        writeMoveStatus(this.storage, this.status);
        return false;
      }
    }
    return true;
  }

  /** The last webhook delivery (its sequence number continues locally), then `done`. */
  async finish(now: number): Promise<void> {
    const last = await this.d1
      .prepare("SELECT * FROM webhook_deliveries ORDER BY sequence DESC LIMIT 1")
      .first<Row>();
    this.storage.transactionSync(() => {
      if (last) {
        const cols = Object.keys(last);
        this.storage.sql.exec(
          `INSERT OR REPLACE INTO webhook_deliveries (${cols.map((c) => `"${c}"`).join(", ")}) VALUES (${placeholders(cols.length)})`,
          ...(Object.values(last) as SqlStorageValue[]),
        );
      }
      Object.assign(this.status, { phase: "done", finishedAt: now });
      writeMoveStatus(this.storage, this.status);
    });
  }

  /** Makes the local key range (after, upTo] hold exactly `rows` (upTo undefined: to the end). */
  private replaceRange(
    table: MovedTable,
    after: Key | null,
    upTo: Key | undefined,
    rows: Row[],
  ): void {
    const range = keyRange(table, after, upTo);
    this.storage.transactionSync(() => {
      this.storage.sql.exec(`DELETE FROM "${table.name}"${range.where}`, ...range.args);
      for (const row of rows) {
        const names = Object.keys(row);
        this.storage.sql.exec(
          `INSERT INTO "${table.name}" (${names.map((n) => `"${n}"`).join(", ")}) VALUES (${placeholders(names.length)})`,
          ...(Object.values(row) as SqlStorageValue[]),
        );
      }
    });
  }
}

/**
 * The GraphWriter's own SQLite (`ctx.storage.sql`), shaped like the part of D1's API the
 * data layer uses (`prepare().bind()`, `all/first/run/raw`, `batch`), so the same query
 * builders serve both stores. Everything runs synchronously in the object: a "round trip"
 * here is a function call, and `batch` is one `transactionSync`.
 *
 * Every prepared statement keeps its SQL and arguments (`portable`), which is what the
 * commit log records for the D1 projection to replay.
 */
import { REPORTS_ONLY } from "../db/queries/reads";

export interface PortableStatement {
  sql: string;
  args: (string | number | null)[];
}

/** D1 turns booleans into 0/1 and undefined into null; the DO binding refuses both. */
const portableValue = (v: unknown): string | number | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" || typeof v === "string") return v;
  if (typeof v === "bigint") return Number(v);
  throw new TypeError(`cannot bind a ${typeof v} to a writer statement`);
};

const isReportsOnly = (sql: string) => sql.startsWith(REPORTS_ONLY);

/** D1's result shape, for rows read and written by the object's SQLite. */
const d1Result = (results: Record<string, unknown>[], rowsRead: number, rowsWritten: number) =>
  ({
    results,
    success: true,
    meta: {
      duration: 0,
      size_after: 0,
      rows_read: rowsRead,
      rows_written: rowsWritten,
      changes: rowsWritten,
      last_row_id: 0,
      changed_db: rowsWritten > 0,
    },
  }) as unknown as D1Result<Record<string, unknown>>;

class LocalStatement {
  constructor(
    private readonly db: LocalSql,
    readonly portable: PortableStatement,
  ) {}

  bind(...args: unknown[]): LocalStatement {
    return new LocalStatement(this.db, { sql: this.portable.sql, args: args.map(portableValue) });
  }

  /**
   * Runs now (inside the caller's transaction, if any) and answers in D1's result shape. A
   * statement that only keeps report tables is not run here: it is logged for D1.
   */
  execute(): D1Result<Record<string, unknown>> {
    if (isReportsOnly(this.portable.sql)) return d1Result([], 0, 0);
    const cursor = this.db.storage.sql.exec(this.portable.sql, ...this.portable.args);
    const results = cursor.toArray() as Record<string, unknown>[];
    this.db.rowsWritten += cursor.rowsWritten;
    return d1Result(results, cursor.rowsRead, cursor.rowsWritten);
  }

  async all<T>(): Promise<D1Result<T>> {
    return this.execute() as unknown as D1Result<T>;
  }

  async run(): Promise<D1Result> {
    return this.execute() as unknown as D1Result;
  }

  async first<T>(column?: string): Promise<T | null> {
    const row = this.execute().results[0];
    if (!row) return null;
    return (column === undefined ? row : row[column]) as T;
  }

  async raw<T extends unknown[]>(): Promise<T[]> {
    return this.execute().results.map((r) => Object.values(r) as T);
  }
}

export class LocalSql {
  /** Rows the object's SQLite wrote through this handle (table and index rows, as billed). */
  rowsWritten = 0;

  constructor(readonly storage: DurableObjectStorage) {}

  prepare(sql: string): LocalStatement {
    return new LocalStatement(this, { sql, args: [] });
  }

  async batch(statements: LocalStatement[]): Promise<D1Result<Record<string, unknown>>[]> {
    return this.storage.transactionSync(() => statements.map((s) => s.execute()));
  }

  /** Runs statements given as SQL and arguments (a commit mirrored from D1), in one transaction. */
  applyPortable(statements: readonly { sql: string; args: readonly unknown[] }[]): void {
    this.storage.transactionSync(() => {
      for (const s of statements)
        if (!isReportsOnly(s.sql))
          this.rowsWritten += this.storage.sql.exec(
            s.sql,
            ...s.args.map(portableValue),
          ).rowsWritten;
    });
  }

  /** This handle as the data layer's `SqlHandle` (the query builders use only the methods above). */
  asHandle(): D1Database {
    return this as unknown as D1Database;
  }

  /** The SQL and arguments of statements built on this handle. */
  static portable(statements: readonly unknown[]): PortableStatement[] {
    return statements.map((s) => {
      if (!(s instanceof LocalStatement))
        throw new TypeError(
          "a writer commit may only hold statements built on the writer's own handle",
        );
      return s.portable;
    });
  }

  /** Runs statements built on this handle now, in the caller's transaction. */
  static execute(statements: readonly unknown[]): void {
    for (const s of statements) (s as LocalStatement).execute();
  }
}

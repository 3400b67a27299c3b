/**
 * Reads that share one D1 round trip. Each query function returns a `Read`: the
 * statements to run and how to turn their results into a value. `readTogether` runs
 * any set of them in one `batch()`. In production every round trip from the GraphWriter
 * to D1 costs milliseconds, so the write lane counts them.
 */
export interface Read<T> {
  statements: D1PreparedStatement[];
  parse(results: D1Result<Record<string, unknown>>[]): T;
}

/**
 * The handle the query builders take, and the statements they build. Today both are D1's;
 * code above the data layer names these aliases, so a storage change is made here.
 */
export type SqlHandle = D1Database;
export type WriteStatement = D1PreparedStatement;

/**
 * Starts the SQL of a statement that only keeps report tables (hourly rollups) up to date.
 * D1 runs it; the writer's own SQLite, which keeps no report tables, only logs it for the
 * projection.
 */
export const REPORTS_ONLY = "/* reports only */ ";

export type Values<R extends Record<string, Read<unknown>>> = {
  [K in keyof R]: R[K] extends Read<infer T> ? T : never;
};

function parseAll<R extends Record<string, Read<unknown>>>(
  reads: R,
  results: D1Result<Record<string, unknown>>[],
): Values<R> {
  const out: Record<string, unknown> = {};
  let at = 0;
  for (const [name, read] of Object.entries(reads)) {
    out[name] = read.parse(results.slice(at, at + read.statements.length));
    at += read.statements.length;
  }
  return out as Values<R>;
}

const statementsOf = (reads: Record<string, Read<unknown>>) =>
  Object.values(reads).flatMap((r) => r.statements);

export async function readTogether<R extends Record<string, Read<unknown>>>(
  d1: D1Database,
  reads: R,
): Promise<Values<R>> {
  const statements = statementsOf(reads);
  const results = statements.length > 0 ? await d1.batch<Record<string, unknown>>(statements) : [];
  return parseAll(reads, results);
}

/** A read that needs no statement (an empty input). */
export function constantRead<T>(value: T): Read<T> {
  return { statements: [], parse: () => value };
}

/** Rows of every statement of a read, concatenated. */
export const rowsOf = <T>(results: D1Result<Record<string, unknown>>[]) =>
  results.flatMap((r) => r.results as T[]);

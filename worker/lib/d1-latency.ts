/**
 * Counts D1 round trips, and in bench mode adds a fixed delay to each one.
 *
 * Locally D1 answers in microseconds; from a Durable Object on Cloudflare each round trip
 * costs milliseconds. `TESSERA_BENCH_D1_DELAY_MS` (set only by `npm run bench`) makes every
 * round trip wait that long, so the benchmark shows what the write lane does at
 * production-like latency. A round trip is one `batch()` or one `first/run/all/raw`.
 */
export interface MeteredD1 {
  db: D1Database;
  /** Round trips made through `db` so far. */
  roundTrips(): number;
  /** The SQL and arguments a statement prepared through `db` was built from. */
  sqlOf(statement: unknown): { sql: string; args: unknown[] } | undefined;
}

const TERMINAL = new Set(["first", "run", "all", "raw"]);

export function meterD1(d1: D1Database, delayMs = 0): MeteredD1 {
  let count = 0;
  const pause = async () => {
    count++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  };
  const originals = new WeakMap<object, D1PreparedStatement>();
  const sources = new WeakMap<object, { sql: string; args: unknown[] }>();
  const wrap = (
    statement: D1PreparedStatement,
    source: { sql: string; args: unknown[] },
  ): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind")
          return (...args: unknown[]) => wrap(target.bind(...args), { sql: source.sql, args });
        if (typeof prop === "string" && TERMINAL.has(prop)) {
          return async (...args: unknown[]) => {
            await pause();
            return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(
              ...args,
            );
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    originals.set(proxy, statement);
    sources.set(proxy, source);
    return proxy;
  };
  // The database and its sessions (`withSession`, the projection's) are metered alike.
  const meter = <T extends D1Database | D1DatabaseSession>(target: T): T =>
    new Proxy(target, {
      get(inner, prop) {
        if (prop === "prepare") return (sql: string) => wrap(inner.prepare(sql), { sql, args: [] });
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            await pause();
            return inner.batch(statements.map((s) => originals.get(s) ?? s));
          };
        }
        if (prop === "withSession")
          return (constraint?: string) => meter((inner as D1Database).withSession(constraint));
        const value = Reflect.get(inner, prop, inner);
        return typeof value === "function" ? value.bind(inner) : value;
      },
    });
  const db = meter(d1);
  return {
    db,
    roundTrips: () => count,
    sqlOf: (statement) =>
      typeof statement === "object" && statement !== null ? sources.get(statement) : undefined,
  };
}

const positive = (text: string | undefined): number => {
  const ms = Number(text ?? 0);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
};

/** The configured bench delay (0 when unset or invalid). */
export const benchDelayMs = (env: { TESSERA_BENCH_D1_DELAY_MS?: string }): number =>
  positive(env.TESSERA_BENCH_D1_DELAY_MS);

/**
 * Bench only (`npm run bench -- --only scale`): time a writer's lane is held per item (the
 * work a real group does, simulated without CPU so shards on one local thread can overlap),
 * and time added to every call between the Worker, the shards and the coordinator.
 */
export const benchItemMs = (env: { TESSERA_BENCH_ITEM_MS?: string }): number =>
  positive(env.TESSERA_BENCH_ITEM_MS);
export const benchRpcMs = (env: { TESSERA_BENCH_RPC_MS?: string }): number =>
  positive(env.TESSERA_BENCH_RPC_MS);

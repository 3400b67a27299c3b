import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof createDb>;

/**
 * The request's one data handle (`c.var.db`, made once by the app's middleware): drizzle
 * for typed queries, and `db.$client` — the same D1 binding — for the hand-written SQL of
 * the query modules. Routes never reach for `c.env.DB` themselves, so a per-request D1
 * session (read replicas) would change this one place.
 */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

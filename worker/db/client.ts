import {
  createTableRelationsHelpers,
  type ExtractTablesWithRelations,
  extractTablesRelationalConfig,
  type RelationalSchemaConfig,
} from "drizzle-orm";
import { DrizzleD1Database, SQLiteD1Session } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

type Tables = ExtractTablesWithRelations<typeof schema>;

/**
 * The schema's relational configuration, worked out once per isolate. `drizzle(d1, { schema })`
 * works it out on every call, and each request makes its handle on its own D1 session:
 * that was 4 % of the CPU of a single-event ingest call.
 */
const tables = extractTablesRelationalConfig<Tables>(schema, createTableRelationsHelpers);
const relational: RelationalSchemaConfig<Tables> = {
  fullSchema: schema,
  schema: tables.tables,
  tableNamesMap: tables.tableNamesMap,
};
const dialect = new SQLiteAsyncDialect();

export type Db = ReturnType<typeof createDb>;

/**
 * The request's one data handle (`c.var.db`, made once by the app's middleware): drizzle
 * for typed queries, and `db.$client` — the same D1 binding — for the hand-written SQL of
 * the query modules. Routes never reach for `c.env.DB` themselves, so a per-request D1
 * session (read replicas) would change this one place. Built as `drizzle()` builds it,
 * from the configuration above.
 */
export function createDb(d1: D1Database) {
  const session = new SQLiteD1Session<typeof schema, Tables>(d1, dialect, relational, {});
  const db = new DrizzleD1Database<typeof schema>("async", dialect, session, relational);
  return Object.assign(db, { $client: d1 });
}

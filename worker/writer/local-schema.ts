/**
 * The writer's own SQLite schema: D1's migrations, applied in order, then fitted to what the
 * writer reads. It leaves the report tables to D1 (`PROJECTION_ONLY`) and keeps its events
 * in a table clustered by id (WITHOUT ROWID): the writer looks events up by id and by
 * identity, never by rowid (exports and reports do, in D1), so the rowid table's separate
 * key index would be one more row written per event. Statements a commit logs replay the
 * same on D1's shape: they name columns, never the rowid.
 */
import { WRITER_MIGRATIONS } from "./schema.generated";

/**
 * What the writer's SQLite leaves to D1: the tables only reports read (hourly rollups,
 * message firsts), the triggers that keep them, and the indexes only reports use. The writer
 * never reads them, and locally each cost a row write per event. The statements a commit
 * logs replay the same on D1, whose triggers keep its rollups. A migration that re-creates
 * one of these is trimmed again at the next start; a new report-only trigger or index
 * belongs in this list.
 */
const PROJECTION_ONLY = {
  tables: ["event_rollups", "event_value_rollups", "message_firsts", "message_rollups"],
  triggers: [
    "events_rollup_insert",
    "events_rollup_delete",
    "events_value_rollup_insert",
    "events_value_rollup_delete",
    "events_message_first_insert",
    "events_message_first_delete",
    "message_firsts_count_insert",
    "message_firsts_count_delete",
    "message_firsts_count_update",
    "message_firsts_delivered_insert",
    "message_firsts_delivered_delete",
  ],
  indexes: ["events_type_at_identity_idx", "events_sent_retry_idx"],
} as const;

/** The marker, in `_writer_migrations`, that the report tables' local copies were emptied. */
const REPORT_TABLES_EMPTIED = "writer: report tables left to D1";

/**
 * Applies the D1 migrations the object's SQLite has not seen yet, in order, each in its
 * own transaction, then drops what only D1 keeps (`PROJECTION_ONLY`) and compacts the
 * events table. Run in the object's constructor (under `blockConcurrencyWhile`).
 */
export function migrateWriterSql(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec(
    "CREATE TABLE IF NOT EXISTS _writer_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM _writer_migrations")
      .toArray()
      .map((r) => r.name),
  );
  for (const migration of WRITER_MIGRATIONS) {
    if (applied.has(migration.name)) continue;
    storage.transactionSync(() => {
      for (const statement of migration.statements) sql.exec(statement);
      sql.exec(
        "INSERT INTO _writer_migrations (name, applied_at) VALUES (?, ?)",
        migration.name,
        Date.now(),
      );
    });
  }
  storage.transactionSync(() => {
    for (const name of PROJECTION_ONLY.triggers) sql.exec(`DROP TRIGGER IF EXISTS ${name}`);
    for (const name of PROJECTION_ONLY.indexes) sql.exec(`DROP INDEX IF EXISTS ${name}`);
    if (applied.has(REPORT_TABLES_EMPTIED)) return;
    // Kept (empty) rather than dropped, so later migrations that alter them still apply.
    for (const table of PROJECTION_ONLY.tables) sql.exec(`DELETE FROM ${table}`);
    sql.exec(
      "INSERT INTO _writer_migrations (name, applied_at) VALUES (?, ?)",
      REPORT_TABLES_EMPTIED,
      Date.now(),
    );
  });
  compactEvents(storage);
}

/**
 * Events a start rebuilds into the compact table at most: a larger table keeps the rowid
 * shape (one more row written per event), as copying it could outlast the object's start.
 */
const COMPACT_EVENTS_LIMIT = 200_000;

/**
 * Rebuilds `events` WITHOUT ROWID (same columns, indexes and triggers) when it is a rowid
 * table — after the first start, or after a migration that re-created it.
 */
function compactEvents(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  const table = sql
    .exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'")
    .one().sql;
  if (/WITHOUT\s+ROWID\s*$/i.test(table)) return;
  const held = sql
    .exec<{ n: number }>(
      "SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT ?)",
      COMPACT_EVENTS_LIMIT + 1,
    )
    .one().n;
  if (held > COMPACT_EVENTS_LIMIT) return;
  const dependents = sql
    .exec<{ sql: string }>(
      "SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND type IN ('index', 'trigger') AND sql IS NOT NULL",
    )
    .toArray()
    .map((r) => r.sql);
  storage.transactionSync(() => {
    sql.exec(
      `${table.replace(/^CREATE TABLE\s+[`"]?events[`"]?/i, "CREATE TABLE events_compact")} WITHOUT ROWID`,
    );
    sql.exec("INSERT INTO events_compact SELECT * FROM events");
    sql.exec("DROP TABLE events");
    sql.exec("ALTER TABLE events_compact RENAME TO events");
    for (const statement of dependents) sql.exec(statement);
  });
}

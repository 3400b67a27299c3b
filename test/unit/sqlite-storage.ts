/**
 * `DurableObjectStorage` (its `sql.exec`, `transactionSync` and alarm) over an in-memory
 * `node:sqlite` database, for unit tests of the writer's parts in Node 22.
 */
import { createRequire } from "node:module";

// node:sqlite (Node 22) is not in Vite's list of built-in modules: load it through require.
export const { DatabaseSync } = createRequire(import.meta.url)(
  "node:sqlite",
) as typeof import("node:sqlite");

export type SqliteDb = InstanceType<typeof DatabaseSync>;

export function sqliteStorage(db: SqliteDb = new DatabaseSync(":memory:")) {
  const storage = {
    sql: {
      exec(sql: string, ...args: (string | number | null)[]) {
        const statement = db.prepare(sql);
        const rows = statement.columns().length > 0 ? statement.all(...args) : [];
        const changes = rows.length === 0 ? Number(statement.run(...args).changes) : 0;
        return {
          toArray: () => rows,
          one: () => rows[0],
          rowsRead: rows.length,
          rowsWritten: changes,
        };
      },
    },
    transactionSync<T>(fn: () => T): T {
      db.exec("BEGIN");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    setAlarm: async () => undefined,
  } as unknown as DurableObjectStorage;
  return { db, storage };
}

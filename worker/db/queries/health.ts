import { sql } from "drizzle-orm";
import type { Db } from "../client";

interface SchemaVersion {
  /** Number of applied migrations. */
  version: number;
  /** Name of the newest applied migration, e.g. `0001_builtins.sql`. */
  latest: string | null;
}

/** Reads wrangler's migration ledger (`d1_migrations`), also written by the test harness. */
export async function schemaVersion(db: Db): Promise<SchemaVersion> {
  const rows = await db.all<{ count: number; latest: string | null }>(
    sql`SELECT count(*) AS count, max(name) AS latest FROM d1_migrations`,
  );
  const row = rows[0];
  return { version: row?.count ?? 0, latest: row?.latest ?? null };
}

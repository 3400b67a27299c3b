import { desc, lt } from "drizzle-orm";
import type { Db } from "../client";
import { suppressions } from "../schema";
import { bulk } from "./json-chunks";

type SuppressionRow = typeof suppressions.$inferSelect;

export async function listSuppressions(
  db: Db,
  limit: number,
  before?: number,
): Promise<SuppressionRow[]> {
  return db
    .select()
    .from(suppressions)
    .where(before ? lt(suppressions.createdAt, before) : undefined)
    .orderBy(desc(suppressions.createdAt), desc(suppressions.hash))
    .limit(limit);
}

export async function suppressionExists(d1: D1Database, hash: string): Promise<boolean> {
  return (
    (await d1
      .prepare("SELECT 1 AS one FROM suppressions WHERE hash = ?1")
      .bind(hash)
      .first("one")) !== null
  );
}

export function suppressionDeleteStatement(d1: D1Database, hash: string): D1PreparedStatement {
  return d1.prepare("DELETE FROM suppressions WHERE hash = ?1").bind(hash);
}

/** Rows: [hash, namespace, profileId]. */
export function suppressionInsertStatements(
  d1: D1Database,
  rows: readonly [string, string, string][],
  now: number,
): D1PreparedStatement[] {
  return bulk(
    d1,
    `INSERT OR IGNORE INTO suppressions (hash, namespace, profile_id, created_at)
     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), ${Number(now)} FROM json_each(?1)`,
    rows,
  );
}

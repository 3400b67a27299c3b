import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { batchChunks, batches } from "../schema";
import { jsonChunks } from "./json-chunks";

export type BatchRow = typeof batches.$inferSelect;
type BatchChunkRow = typeof batchChunks.$inferSelect;

export async function insertBatch(db: Db, row: typeof batches.$inferInsert): Promise<void> {
  await db.insert(batches).values(row);
}

export async function getBatch(db: Db, id: string): Promise<BatchRow | undefined> {
  return db.query.batches.findFirst({ where: eq(batches.id, id) });
}

/** How many bytes of each batch's file are processed: where its last applied chunk ended. */
export async function batchProgress(
  d1: D1Database,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const processed = new Map<string, number>();
  // D1 binds at most 100 parameters per statement; a page lists up to 200 batches.
  for (let i = 0; i < ids.length; i += 100) {
    const slice = ids.slice(i, i + 100);
    const { results } = await d1
      .prepare(
        `SELECT batch_id, MAX(next_offset) AS processed FROM batch_chunks WHERE batch_id IN (${slice.map(() => "?").join(",")}) GROUP BY batch_id`,
      )
      .bind(...slice)
      .all<{ batch_id: string; processed: number }>();
    for (const r of results) processed.set(r.batch_id, r.processed);
  }
  return processed;
}

export async function listBatches(db: Db, limit: number, before?: number): Promise<BatchRow[]> {
  return db
    .select()
    .from(batches)
    .where(before ? sql`${batches.createdAt} < ${before}` : undefined)
    .orderBy(desc(batches.createdAt), desc(batches.id))
    .limit(limit);
}

export async function getChunk(
  db: Db,
  batchId: string,
  chunk: number,
): Promise<BatchChunkRow | undefined> {
  return db.query.batchChunks.findFirst({
    where: and(eq(batchChunks.batchId, batchId), eq(batchChunks.chunk, chunk)),
  });
}

export async function setBatchHeader(db: Db, id: string, header: string[]): Promise<void> {
  await db
    .update(batches)
    .set({ header, status: "processing", updatedAt: Date.now() })
    .where(eq(batches.id, id));
}

export async function markBatchFailed(db: Db, id: string, error: string): Promise<void> {
  await db
    .update(batches)
    .set({ status: "failed", error, updatedAt: Date.now() })
    .where(eq(batches.id, id));
}

/**
 * Records one finished chunk, its row errors and the batch's totals in one atomic batch.
 * A chunk that was already recorded (a redelivered message) is not counted twice: the
 * chunk row is keyed by (batch, chunk) and totals are sums over chunk rows.
 */
export async function completeChunk(
  d1: D1Database,
  chunk: Omit<BatchChunkRow, "doneAt">,
  errors: { line: number; error: unknown }[],
  now: number,
): Promise<void> {
  await d1.batch([
    ...jsonChunks(errors.map((e) => [e.line, JSON.stringify(e.error)])).map((rows) =>
      d1
        .prepare(
          `INSERT OR REPLACE INTO batch_errors (batch_id, line, error)
           SELECT ?2, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)`,
        )
        .bind(rows, chunk.batchId),
    ),
    d1
      .prepare(
        `INSERT OR IGNORE INTO batch_chunks (batch_id, chunk, rows, ingested, failed, next_offset, next_line, final, done_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
      )
      .bind(
        chunk.batchId,
        chunk.chunk,
        chunk.rows,
        chunk.ingested,
        chunk.failed,
        chunk.nextOffset,
        chunk.nextLine,
        chunk.final ? 1 : 0,
        now,
      ),
    d1
      .prepare(
        `UPDATE batches SET
           rows_total = (SELECT coalesce(sum(rows), 0) FROM batch_chunks WHERE batch_id = ?1),
           rows_ingested = (SELECT coalesce(sum(ingested), 0) FROM batch_chunks WHERE batch_id = ?1),
           rows_failed = (SELECT coalesce(sum(failed), 0) FROM batch_chunks WHERE batch_id = ?1),
           status = CASE WHEN EXISTS (SELECT 1 FROM batch_chunks WHERE batch_id = ?1 AND final = 1) THEN 'completed' ELSE 'processing' END,
           updated_at = ?2
         WHERE id = ?1`,
      )
      .bind(chunk.batchId, now),
  ]);
}

export async function batchErrorsPage(
  d1: D1Database,
  batchId: string,
  afterLine: number,
  limit: number,
) {
  const { results } = await d1
    .prepare(
      `SELECT line, error FROM batch_errors WHERE batch_id = ?1 AND line > ?2 ORDER BY line LIMIT ?3`,
    )
    .bind(batchId, afterLine, limit)
    .all<{ line: number; error: string }>();
  return results.map((r) => ({ line: r.line, error: JSON.parse(r.error) as unknown }));
}

/**
 * Processes a stored batch file one chunk per queue message: read a byte range from R2,
 * parse complete rows, ingest them through the same path as the API, record the chunk
 * (counts, row errors, where the next chunk starts) atomically, then enqueue the next.
 *
 * Queues deliver at least once, so every step is idempotent: event rows get stable ids
 * (`<batch>:<line>`), records get the batch's time as default timestamp, and a chunk that
 * is already recorded is not counted again — a retry ends with exact counts. A chunk
 * that fails as a whole is retried row by row, and a chain that stops (a crash, a lost
 * message) is resumed by the sweeper in `maintenance/resume.ts`.
 */
import { createDb } from "../db/client";
import {
  type BatchRow,
  completeChunk,
  getBatch,
  getChunk,
  markBatchFailed,
  setBatchHeader,
} from "../db/queries/batches";
import { loadIdentityConfig } from "../graph/identity-config";
import { ingestItems, type RawItem, validationContext } from "../ingest/service";
import type { ItemOutcome } from "../ingest/types";
import type { ValidationContext } from "../ingest/validate";
import type { Bindings } from "../model/bindings";
import { type ParsedChunk, parseCsvChunk, parseCsvHeader, parseNdjsonChunk } from "./parse";
import { csvRowToItem, type ItemKind, misspelledIdentityColumn } from "./rows";

const CHUNK_BYTES = 1024 * 1024;
const CHUNK_ROWS = 1000;
const MAX_ATTEMPTS = 5;

export interface BatchMessage {
  batchId: string;
  chunk: number;
  /** Byte offset in the stored file where this chunk starts (after the CSV header). */
  offset: number;
  /** 1-based line number at `offset`. */
  line: number;
}

interface ProcessHooks {
  /** Ingest row by row (set on a retry after the chunk failed as a whole). */
  isolateRows?: boolean;
  /** Test seam: runs after the chunk's rows are ingested, before the chunk is recorded. */
  afterIngest?: (message: BatchMessage) => void | Promise<void>;
}

async function readRange(
  env: Bindings,
  batch: BatchRow,
  offset: number,
  length: number,
): Promise<{ text: string; atEnd: boolean } | undefined> {
  const object = await env.FILES.get(batch.objectKey, { range: { offset, length } });
  if (!object) return undefined;
  const bytes = new Uint8Array(await object.arrayBuffer());
  // ignoreBOM keeps a leading BOM in the text, so byte offsets computed from it stay exact.
  return {
    text: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes),
    atEnd: offset + bytes.length >= batch.bytes,
  };
}

function itemKind(datasetKind: string, row: Record<string, unknown>): ItemKind {
  if (datasetKind === "records" || datasetKind === "events") return datasetKind;
  return typeof row.type === "string" && row.type !== "" ? "events" : "records";
}

/**
 * An NDJSON file of events sent to a records dataset (or records to an events dataset)
 * would fail every row with a shape error; judged on the first row, it is one clear error.
 */
function kindMismatch(
  datasetKind: string,
  first: Record<string, unknown> | undefined,
): string | undefined {
  if (!first) return undefined;
  const looksLikeEvent = typeof first.type === "string" && !("attributes" in first);
  const looksLikeRecord = "attributes" in first && !("type" in first);
  if (datasetKind === "records" && looksLikeEvent)
    return "this dataset holds records, and the file's first row is an event (it has `type` and no `attributes`); import it into an events dataset";
  if (datasetKind === "events" && looksLikeRecord)
    return "this dataset holds events, and the file's first row is a record (it has `attributes` and no `type`); import it into a records dataset";
  return undefined;
}

/** Handles one queue message; throws to have the message retried. */
export async function processBatchChunk(
  env: Bindings,
  message: BatchMessage,
  hooks: ProcessHooks = {},
): Promise<void> {
  const db = createDb(env.DB);
  const batch = await getBatch(db, message.batchId);
  if (!batch || batch.status === "completed" || batch.status === "failed") return;

  const done = await getChunk(db, batch.id, message.chunk);
  if (done) {
    // Redelivered after the chunk was recorded: only make sure the chain goes on.
    if (!done.final) await enqueueNext(env, message, done.nextOffset, done.nextLine);
    return;
  }

  let { offset, line } = message;
  let header = batch.header ?? undefined;
  if (batch.format === "csv" && offset === 0) {
    // Chunk 0 (first delivery or a retry): the header line comes first; skip past it.
    const start = await readRange(env, batch, 0, 64 * 1024);
    const parsed = start
      ? parseCsvHeader(start.text, start.atEnd)
      : { error: "the stored file is missing" };
    if ("error" in parsed) {
      await markBatchFailed(db, batch.id, parsed.error);
      return;
    }
    const identity = await loadIdentityConfig(db, env.TESSERA_PHONE_REGION);
    const misspelled = misspelledIdentityColumn(parsed.header, new Set(identity.namespaces.keys()));
    if (misspelled) {
      await setBatchHeader(db, batch.id, parsed.header);
      await markBatchFailed(db, batch.id, `${misspelled.message} — no row was imported`);
      return;
    }
    if (!header) await setBatchHeader(db, batch.id, parsed.header);
    header = parsed.header;
    offset = parsed.bytes;
    line = 2;
  }

  if (offset >= batch.bytes) {
    // Nothing after the header (or an empty tail): the batch completes with what it has.
    await completeChunk(
      env.DB,
      {
        batchId: batch.id,
        chunk: message.chunk,
        rows: 0,
        ingested: 0,
        failed: 0,
        nextOffset: offset,
        nextLine: line,
        final: true,
      },
      [],
      Date.now(),
    );
    return;
  }
  const range = await readRange(env, batch, offset, CHUNK_BYTES);
  if (!range) {
    await markBatchFailed(db, batch.id, "the stored file is missing");
    return;
  }
  const text =
    offset === 0 && range.text.charCodeAt(0) === 0xfeff ? range.text.slice(1) : range.text;
  const bomBytes = text.length !== range.text.length ? 3 : 0;
  const parsed: ParsedChunk =
    batch.format === "csv"
      ? parseCsvChunk(text, header!, line, range.atEnd, CHUNK_ROWS)
      : parseNdjsonChunk(text, line, range.atEnd, CHUNK_ROWS);
  if (parsed.consumedBytes === 0 && !range.atEnd) {
    await markBatchFailed(db, batch.id, `line ${line}: a row longer than ${CHUNK_BYTES} bytes`);
    return;
  }

  const ctx = await validationContext(env, db, "rows", batch.createdAt);
  const dataset = ctx.datasets.get(batch.dataset);
  const mismatch =
    message.chunk === 0 && batch.format === "ndjson" && dataset
      ? kindMismatch(dataset.kind, parsed.rows.find((r) => r.value)?.value)
      : undefined;
  if (mismatch) {
    await markBatchFailed(db, batch.id, `wrong_dataset_kind: ${mismatch} — no row was imported`);
    return;
  }
  const errors: { line: number; error: unknown }[] = [];
  const items: RawItem[] = [];
  parsed.rows.forEach((row, index) => {
    if (row.error || !row.value) {
      errors.push({
        line: row.line,
        error: { code: "invalid_row", message: row.error ?? "unreadable row" },
      });
      return;
    }
    const kind = itemKind(dataset?.kind ?? "records", row.value);
    const value =
      batch.format === "csv"
        ? csvRowToItem(row.value as Record<string, string>, kind, batch.dataset, dataset?.schema)
        : { ...row.value, dataset: batch.dataset };
    items.push({ index, kind, value, defaultEventId: `${batch.id}:${row.line}` });
  });

  let ingested = 0;
  if (items.length > 0) {
    const outcomes = hooks.isolateRows
      ? await ingestOneByOne(env, ctx, items, batch.createdAt)
      : (await ingestItems(env, ctx, items, { atomic: false, receivedAt: batch.createdAt }))
          .outcomes;
    for (const outcome of outcomes) {
      if (outcome.status === "rejected")
        errors.push({ line: parsed.rows[outcome.index]!.line, error: outcome.error });
      else ingested++; // accepted, or a duplicate of a row this batch already stored
    }
  }
  await hooks.afterIngest?.(message);

  const nextOffset = offset + bomBytes + parsed.consumedBytes;
  const nextLine = line + parsed.consumedLines;
  const final = range.atEnd && nextOffset >= batch.bytes;
  errors.sort((a, b) => a.line - b.line);
  await completeChunk(
    env.DB,
    {
      batchId: batch.id,
      chunk: message.chunk,
      rows: parsed.rows.length,
      ingested,
      failed: errors.length,
      nextOffset,
      nextLine,
      final,
    },
    errors,
    Date.now(),
  );
  if (!final) await enqueueNext(env, message, nextOffset, nextLine);
}

/**
 * A chunk whose rows failed together (a poison row the checks did not catch, a store
 * error): each row alone, so the one that cannot be stored becomes that row's error and
 * every good row beside it is kept. Rows are idempotent, so rows stored by the failed
 * attempt count once.
 */
async function ingestOneByOne(
  env: Bindings,
  ctx: ValidationContext,
  items: RawItem[],
  receivedAt: number,
): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  for (const item of items) {
    try {
      outcomes.push(
        ...(await ingestItems(env, ctx, [item], { atomic: false, receivedAt })).outcomes,
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      outcomes.push({
        index: item.index,
        status: "rejected",
        error: { code: "internal_error", message: `this row could not be stored: ${reason}` },
      });
    }
  }
  return outcomes;
}

async function enqueueNext(
  env: Bindings,
  message: BatchMessage,
  offset: number,
  line: number,
): Promise<void> {
  await env.BATCH_QUEUE.send({
    batchId: message.batchId,
    chunk: message.chunk + 1,
    offset,
    line,
  } satisfies BatchMessage);
}

/** The queue consumer: one chunk per message, retried with backoff, failed after MAX_ATTEMPTS. */
export async function handleBatchQueue(
  batch: MessageBatch<BatchMessage>,
  env: Bindings,
): Promise<void> {
  for (const message of batch.messages) {
    try {
      // From the second attempt on, rows go one by one: a poison row fails alone.
      await processBatchChunk(env, message.body, { isolateRows: message.attempts > 1 });
      message.ack();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      console.error(
        `batch ${message.body.batchId} chunk ${message.body.chunk}: attempt ${message.attempts} failed: ${reason}`,
      );
      if (message.attempts >= MAX_ATTEMPTS) {
        await markBatchFailed(
          createDb(env.DB),
          message.body.batchId,
          `chunk ${message.body.chunk} failed ${message.attempts} times: ${reason}`,
        );
        message.ack();
      } else {
        message.retry({ delaySeconds: Math.min(2 ** message.attempts, 60) });
      }
    }
  }
}

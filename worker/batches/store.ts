/**
 * Accepting an uploaded batch file: stored in R2, recorded and queued before the 202
 * (SPEC: an accepted batch is never lost). A plain body streams straight in; a gzip body is decompressed on the way, so
 * chunks can later be read by byte range, and the 100 MB limit applies to what it
 * decompresses to. R2 needs a known length for a single put, so the decompressed stream
 * goes in as a multipart upload of equal 8 MiB parts.
 */
import { BATCH_MAX_BYTES } from "../../shared/schemas/batches";
import { randomToken } from "../auth/keys";
import type { Db } from "../db/client";
import { insertBatch } from "../db/queries/batches";
import { getDataset } from "../db/queries/datasets";
import { gunzipStream } from "../lib/body";
import { ApiError } from "../lib/errors";
import type { Bindings } from "../model/bindings";
import type { BatchMessage } from "./process";

const PART_BYTES = 8 * 1024 * 1024;

/** Stores, records and queues a batch file for `dataset`; the batch id. */
export async function acceptBatch(
  c: { env: Bindings; var: { db: Db } },
  file: {
    dataset: string;
    format: "csv" | "ndjson";
    body: ReadableStream<Uint8Array>;
    gzip: boolean;
    contentType: string;
  },
): Promise<string> {
  if (!(await getDataset(c.var.db, file.dataset)))
    throw new ApiError(
      "unknown_dataset",
      `unknown dataset "${file.dataset}": create it with PUT /v1/datasets/${file.dataset}`,
    );
  const id = `bat_${randomToken(20)}`;
  const objectKey = `batches/${id}.${file.format}`;
  const stored = file.gzip
    ? await storeDecompressed(
        c.env.FILES,
        objectKey,
        gunzipStream(file.body),
        BATCH_MAX_BYTES,
        file.contentType,
      )
    : await c.env.FILES.put(objectKey, file.body, {
        httpMetadata: { contentType: file.contentType },
      });
  const now = Date.now();
  await insertBatch(c.var.db, {
    id,
    dataset: file.dataset,
    format: file.format,
    status: "queued",
    objectKey,
    bytes: stored.size,
    createdAt: now,
    updatedAt: now,
  });
  await c.env.BATCH_QUEUE.send({
    batchId: id,
    chunk: 0,
    offset: 0,
    line: 1,
  } satisfies BatchMessage);
  return id;
}

async function storeDecompressed(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  contentType: string,
): Promise<{ size: number }> {
  const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType } });
  const parts: R2UploadedPart[] = [];
  let buffer = new Uint8Array(PART_BYTES);
  let filled = 0;
  let size = 0;
  const flush = async () => {
    parts.push(await upload.uploadPart(parts.length + 1, buffer.slice(0, filled)));
    filled = 0;
  };
  try {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        throw new ApiError(
          "payload_too_large",
          `batch files are at most ${maxBytes} bytes (decompressed)`,
        );
      }
      let offset = 0;
      while (offset < value.length) {
        const n = Math.min(PART_BYTES - filled, value.length - offset);
        buffer.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === PART_BYTES) await flush();
      }
    }
    if (size === 0) throw new ApiError("invalid_request", "the file is empty");
    if (filled > 0) await flush();
    await upload.complete(parts);
    return { size };
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err;
  } finally {
    buffer = new Uint8Array(0);
  }
}

import { z } from "@hono/zod-openapi";
import { BATCH_MAX_BYTES, BatchQuery, BatchSchema } from "../../shared/schemas/batches";
import { listOf, NAME_PATTERN, pageLimit } from "../../shared/schemas/common";
import { csvColumns } from "../batches/rows";
import { acceptBatch } from "../batches/store";
import { cachedDatasets } from "../config/service";
import {
  type BatchRow,
  batchErrorsPage,
  batchProgress,
  getBatch,
  listBatches,
} from "../db/queries/batches";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { isGzip } from "../lib/body";
import { pageOf } from "../lib/cursor";
import { ApiError } from "../lib/errors";
import { errorResponses } from "../lib/openapi";
import { toIso } from "../lib/time";

const tags = ["Batches"];

const present = (
  b: BatchRow,
  processed: ReadonlyMap<string, number>,
  kinds: ReadonlyMap<string, string>,
) => ({
  batchId: b.id,
  dataset: b.dataset,
  format: b.format as "ndjson" | "csv",
  status: b.status as "queued" | "processing" | "completed" | "failed",
  bytes: b.bytes,
  bytesProcessed: b.status === "completed" ? b.bytes : Math.min(processed.get(b.id) ?? 0, b.bytes),
  rows: { total: b.rowsTotal, ingested: b.rowsIngested, failed: b.rowsFailed },
  error: b.error ?? null,
  // `type` and `id` are event fields unless the dataset holds records.
  ...(b.format === "csv" && b.header
    ? { columns: csvColumns(b.header, kinds.get(b.dataset) === "records" ? "records" : "events") }
    : {}),
  createdAt: toIso(b.createdAt),
  updatedAt: toIso(b.updatedAt),
});

export const batchesRouter = createRouter()
  .openapi(
    scopedRoute("ingest", {
      operationId: "createBatch",
      method: "post",
      path: "/batches",
      tags,
      summary:
        "Upload a CSV or NDJSON file (≤ 100 MB decompressed, streamed, gzip allowed); it is stored before the 202",
      request: {
        query: BatchQuery,
        body: {
          required: true,
          content: {
            "text/csv": { schema: z.string().meta({ format: "binary" }) },
            "application/x-ndjson": { schema: z.string().meta({ format: "binary" }) },
          },
        },
      },
      responses: {
        202: {
          description: "Stored and queued",
          content: { "application/json": { schema: z.object({ batchId: z.string() }) } },
        },
        ...errorResponses(400, 401, 403, 413, 415),
      },
    }),
    async (c) => {
      const { dataset, format } = c.req.valid("query");
      if (!NAME_PATTERN.test(dataset))
        throw new ApiError("invalid_name", "dataset names match [a-z][a-z0-9_-]{0,63}", {
          details: [{ path: "dataset", message: "invalid name" }],
        });
      const type = c.req.header("content-type") ?? "";
      if (/multipart\/form-data|application\/x-www-form-urlencoded/i.test(type)) {
        throw new ApiError(
          "unsupported_media_type",
          "send the file itself as the request body (e.g. curl --data-binary @file.csv), not a form",
        );
      }
      const gzip = isGzip(c.req.raw);
      const length = Number(c.req.header("content-length") ?? NaN);
      if (!gzip && !Number.isFinite(length))
        throw new ApiError(
          "invalid_request",
          "a Content-Length header is required (upload the file as the body)",
        );
      if (!gzip && length > BATCH_MAX_BYTES)
        throw new ApiError("payload_too_large", `batch files are at most ${BATCH_MAX_BYTES} bytes`);
      if (length === 0 || !c.req.raw.body)
        throw new ApiError("invalid_request", "the file is empty");

      // The file is in R2 before we answer: an accepted batch is never lost.
      const id = await acceptBatch(c, {
        dataset,
        format,
        body: c.req.raw.body,
        gzip,
        contentType: type || "application/octet-stream",
      });
      return c.json({ batchId: id }, 202);
    },
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "listBatches",
      method: "get",
      path: "/batches",
      tags,
      summary: "Recent batches, newest first",
      request: {
        query: z.object({
          limit: pageLimit(50, 200),
          cursor: z.string().regex(/^\d+$/, "use nextCursor from a previous page").optional(),
        }),
      },
      responses: {
        200: {
          description: "Batches",
          content: { "application/json": { schema: listOf(BatchSchema) } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const rows = await listBatches(c.var.db, limit + 1, cursor ? Number(cursor) : undefined);
      // Batch cursors are the plain creation time (documented as digits).
      const processed = await batchProgress(
        c.var.db.$client,
        rows.slice(0, limit).map((b) => b.id),
      );
      const kinds = new Map((await cachedDatasets(c.var.db)).map((d) => [d.name, d.kind]));
      return c.json(
        pageOf(
          rows,
          limit,
          (b) => present(b, processed, kinds),
          (last) => last.createdAt,
          String,
        ),
        200,
      );
    },
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "getBatch",
      method: "get",
      path: "/batches/{id}",
      tags,
      summary: "Status and row counts of a batch",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: "The batch", content: { "application/json": { schema: BatchSchema } } },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const batch = await getBatch(c.var.db, c.req.valid("param").id);
      if (!batch) throw new ApiError("not_found", `no batch ${c.req.valid("param").id}`);
      const kinds = new Map((await cachedDatasets(c.var.db)).map((d) => [d.name, d.kind]));
      return c.json(present(batch, await batchProgress(c.var.db.$client, [batch.id]), kinds), 200);
    },
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "getBatchErrors",
      method: "get",
      path: "/batches/{id}/errors",
      tags,
      summary: "Every failed row as NDJSON `{ line, error }`",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        // The media type is widened to `string` so the route types as "any Response": zod-openapi
        // would read `application/x-ndjson` as a JSON type and type the answer as never.
        200: {
          description: "NDJSON",
          content: { ["application/x-ndjson" as string]: { schema: z.string() } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const batchId = c.req.valid("param").id;
      if (!(await getBatch(c.var.db, batchId)))
        throw new ApiError("not_found", `no batch ${batchId}`);
      const d1 = c.var.db.$client;
      const encoder = new TextEncoder();
      let after = 0;
      // Streamed page by page, so 100,000 errors never sit in memory at once.
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const page = await batchErrorsPage(d1, batchId, after, 1000);
          if (page.length === 0) return controller.close();
          after = page[page.length - 1]!.line;
          controller.enqueue(encoder.encode(page.map((e) => JSON.stringify(e)).join("\n") + "\n"));
        },
      });
      return c.body(stream, 200, { "content-type": "application/x-ndjson; charset=utf-8" });
    },
  );

import { z } from "zod";

export const BATCH_MAX_BYTES = 100 * 1024 * 1024;

export const BatchQuery = z.object({
  dataset: z.string().meta({ example: "crm" }),
  format: z.enum(["ndjson", "csv"]),
});

export const BatchSchema = z
  .object({
    batchId: z.string(),
    dataset: z.string(),
    format: z.enum(["ndjson", "csv"]),
    status: z.enum(["queued", "processing", "completed", "failed"]),
    bytes: z.number().int(),
    bytesProcessed: z.number().int().meta({
      description:
        "How far into the stored file processing has come (bytes); equals `bytes` when done.",
    }),
    rows: z.object({
      total: z.number().int(),
      ingested: z.number().int(),
      failed: z.number().int(),
    }),
    error: z.string().nullable(),
    columns: z
      .object({
        identities: z.array(z.string()),
        fields: z.array(z.string()),
        attributes: z.array(z.string()),
      })
      .optional()
      .meta({
        description:
          "CSV: what each header column became — identity columns, event fields (timestamp, type, id) and attribute paths",
      }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Batch" });

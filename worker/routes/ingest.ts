import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  EventInput,
  EventsBody,
  EventsBodySchema,
  IngestResult,
  RecordInput,
  RecordsBody,
  RecordsBodySchema,
} from "../../shared/schemas/ingest";
import type { AppEnv } from "../env";
import { ingest, type IngestKind } from "../ingest/service";
import { serverTiming } from "../ingest/timing";
import { readJsonBody } from "../lib/body";
import { orFail } from "../lib/errors";
import { BooleanQuery, errorResponses, selfCheckedBody } from "../lib/openapi";
import { scopedRoute } from "../lib/route";
import { createRouter } from "../lib/router";

const tags = ["Ingest"];

const AtomicQuery = z.object({
  atomic: BooleanQuery.optional().meta({ description: "`true`: all-or-nothing instead of per-item acceptance." }),
});
const ok = { description: "Per-item outcome", content: { "application/json": { schema: IngestResult } } };

/** Reads the body, ingests it item by item, answers with the writer's cost as Server-Timing. */
async function handle(c: Context<AppEnv>, kind: IngestKind, atomic: boolean | undefined) {
  const { cost, ...body } = orFail(await ingest(c.env, c.var.db, kind, await readJsonBody(c), { atomic: atomic === true }));
  c.header("Server-Timing", serverTiming(cost));
  return body;
}

// The two routes are written out, not made by one factory: a factory generic in the body
// schema hides the body's type from `hc<AppType>` (test/types/client.typecheck.ts caught it).
export const ingestRouter = createRouter()
  .openapi(
    scopedRoute("ingest", {
      operationId: "ingestEvents",
      method: "post",
      path: "/events",
      tags,
      summary: "Ingest one event or up to 1,000 (`{ events: [...] }`)",
      request: { query: AtomicQuery, body: selfCheckedBody(EventsBody, EventsBodySchema) },
      responses: { 200: ok, ...errorResponses(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => c.json(await handle(c, "events", c.req.valid("query").atomic), 200),
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "ingestRecords",
      method: "post",
      path: "/records",
      tags,
      summary: "Ingest one record or up to 1,000 (`{ records: [...] }`)",
      request: { query: AtomicQuery, body: selfCheckedBody(RecordsBody, RecordsBodySchema) },
      responses: { 200: ok, ...errorResponses(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => c.json(await handle(c, "records", c.req.valid("query").atomic), 200),
  );
ingestRouter.openAPIRegistry.register("Event", EventInput);
ingestRouter.openAPIRegistry.register("Record", RecordInput);

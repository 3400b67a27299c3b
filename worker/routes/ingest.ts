import { z } from "@hono/zod-openapi";
import { EventsBody, IngestResult, RecordsBody } from "../../shared/schemas/ingest";
import { ingest } from "../ingest/service";
import { errorResponses, jsonBody } from "../lib/openapi";
import { scopedRoute } from "../lib/route";
import { createRouter } from "../lib/router";

const tags = ["Ingest"];
const AtomicQuery = z.object({
  atomic: z.enum(["true", "false"]).optional().meta({ description: "`true`: all-or-nothing instead of per-item acceptance." }),
});
const ok = { description: "Per-item outcome", content: { "application/json": { schema: IngestResult } } };

export const ingestRouter = createRouter()
  .openapi(
    scopedRoute("ingest", {
      method: "post",
      path: "/events",
      tags,
      summary: "Ingest one event or up to 1,000 (`{ events: [...] }`)",
      request: { query: AtomicQuery, body: jsonBody(EventsBody) },
      responses: { 200: ok, ...errorResponses(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => c.json(await ingest(c.env, c.var.db, "events", c.req.valid("json"), { atomic: c.req.valid("query").atomic === "true" }), 200),
  )
  .openapi(
    scopedRoute("ingest", {
      method: "post",
      path: "/records",
      tags,
      summary: "Ingest one record or up to 1,000 (`{ records: [...] }`)",
      request: { query: AtomicQuery, body: jsonBody(RecordsBody) },
      responses: { 200: ok, ...errorResponses(400, 401, 403, 413, 415, 422) },
    }),
    async (c) => c.json(await ingest(c.env, c.var.db, "records", c.req.valid("json"), { atomic: c.req.valid("query").atomic === "true" }), 200),
  );

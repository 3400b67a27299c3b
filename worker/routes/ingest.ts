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
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { type IngestKind, ingest } from "../ingest/service";
import { ingestAnswerHeaders } from "../ingest/timing";
import { readJsonBody } from "../lib/body";
import { orFail } from "../lib/errors";
import { BooleanQuery, errorResponses, selfCheckedBody } from "../lib/openapi";

const tags = ["Ingest"];

const AtomicQuery = z.object({
  atomic: BooleanQuery.optional().meta({
    description: "`true`: all-or-nothing instead of per-item acceptance.",
  }),
  dryRun: BooleanQuery.optional().meta({
    description:
      "`true`: answer what the call would do, with its effect on identity graphs (`graph`), and store nothing.",
  }),
});
const ok = {
  description: "Per-item outcome",
  content: { "application/json": { schema: IngestResult } },
};

/** Reads the body, ingests it item by item, answers with the writer's cost as Server-Timing. */
async function handle(
  c: Context<AppEnv>,
  kind: IngestKind,
  query: { atomic?: boolean; dryRun?: boolean },
) {
  const { cost, ...body } = orFail(
    await ingest(c.env, c.var.db, kind, await readJsonBody(c), {
      atomic: query.atomic === true,
      dryRun: query.dryRun === true,
    }),
  );
  ingestAnswerHeaders(c, cost);
  return body;
}

/** What both ingest routes share. (Each route's own body is written at its route: a factory
 * generic in the body schema hides the body's type from `hc<AppType>`.) */
const shared = {
  method: "post",
  tags,
  responses: { 200: ok, ...errorResponses(400, 401, 403, 413, 415, 422) },
} as const;

export const ingestRouter = createRouter()
  .openapi(
    scopedRoute("ingest", {
      ...shared,
      operationId: "ingestEvents",
      path: "/events",
      summary: "Ingest one event or up to 1,000 (`{ events: [...] }`)",
      request: { query: AtomicQuery, body: selfCheckedBody(EventsBody, EventsBodySchema) },
    }),
    async (c) => c.json(await handle(c, "events", c.req.valid("query")), 200),
  )
  .openapi(
    scopedRoute("ingest", {
      ...shared,
      operationId: "ingestRecords",
      path: "/records",
      summary: "Ingest one record or up to 1,000 (`{ records: [...] }`)",
      request: { query: AtomicQuery, body: selfCheckedBody(RecordsBody, RecordsBodySchema) },
    }),
    async (c) => c.json(await handle(c, "records", c.req.valid("query")), 200),
  );
ingestRouter.openAPIRegistry.register("Event", EventInput);
ingestRouter.openAPIRegistry.register("Record", RecordInput);

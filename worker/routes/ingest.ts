import { z } from "@hono/zod-openapi";
import { EventInput, EventsBody, IngestResult, RecordInput, RecordsBody } from "../../shared/schemas/ingest";
import { readJsonBody } from "../lib/body";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ingest, type IngestKind } from "../ingest/service";
import { serverTiming } from "../ingest/timing";
import { errorResponses } from "../lib/openapi";
import { scopedRoute } from "../lib/route";
import { createRouter } from "../lib/router";

const tags = ["Ingest"];

/** The result, with the writer's cost as a standard Server-Timing header (for benchmarks and debugging). */
function respond<C extends Context<AppEnv>>(c: C, result: Awaited<ReturnType<typeof ingest>>) {
  const { cost, ...body } = result;
  c.header("Server-Timing", serverTiming(cost));
  return c.json(body, 200);
}
const AtomicQuery = z.object({
  atomic: z.enum(["true", "false"]).optional().meta({ description: "`true`: all-or-nothing instead of per-item acceptance." }),
});
const ok = { description: "Per-item outcome", content: { "application/json": { schema: IngestResult } } };

function ingestRoute(kind: IngestKind, body: typeof EventsBody | typeof RecordsBody, noun: string) {
  return scopedRoute("ingest", {
    method: "post",
    path: `/${kind}`,
    tags,
    summary: `Ingest one ${noun} or up to 1,000 (\`{ ${kind}: [...] }\`)`,
    request: { query: AtomicQuery, body: { required: true, content: { "application/json": { schema: body } } } },
    responses: { 200: ok, ...errorResponses(400, 401, 403, 413, 415, 422) },
  });
}

export const ingestRouter = createRouter();
ingestRouter.openAPIRegistry.register("Event", EventInput);
ingestRouter.openAPIRegistry.register("Record", RecordInput);
for (const [kind, body, noun] of [
  ["events", EventsBody, "event"],
  ["records", RecordsBody, "record"],
] as const) {
  ingestRouter.openapi(ingestRoute(kind, body, noun), async (c) =>
    respond(c, await ingest(c.env, c.var.db, kind, await readJsonBody(c), { atomic: c.req.valid("query").atomic === "true" })),
  );
}

import { z } from "@hono/zod-openapi";
import { listOf, ResourceName } from "../../shared/schemas/common";
import { DestinationBody, RunSchema, type DestinationConfig } from "../../shared/schemas/destinations";
import { getDestination, getRun, listDestinations, listRuns, putDestination, type DestinationRow, type PartInfo, type RunRow } from "../db/queries/exports";
import { getSegment } from "../db/queries/segments";
import { startExport } from "../exports/run";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { scopedRoute } from "../lib/route";
import { createRouter } from "../lib/router";
import { toIso } from "../lib/time";
import { resolvePolicy } from "../profiles/service";

const tags = ["Destinations"];
const DestinationSchema = z.object({ name: z.string(), config: z.record(z.string(), z.unknown()), lastRunAt: z.string().nullable() }).meta({ id: "Destination" });

/** Configuration as stored: credential *names* only, never values. */
const presentDestination = (d: DestinationRow) => ({ name: d.name, config: d.config, lastRunAt: d.lastRunAt ? toIso(d.lastRunAt) : null });
const presentRun = (r: RunRow) => ({
  runId: r.id,
  destination: r.destination,
  status: r.status as "queued" | "running" | "completed" | "failed",
  trigger: r.trigger,
  profiles: r.profiles,
  parts: r.parts as PartInfo[],
  error: r.error ?? null,
  startedAt: toIso(r.startedAt),
  finishedAt: r.finishedAt ? toIso(r.finishedAt) : null,
});

export const destinationsRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      method: "put",
      path: "/destinations/{name}",
      tags,
      summary: "Create or replace an export destination (r2, s3, azure)",
      request: { params: z.object({ name: ResourceName }), body: jsonBody(DestinationBody) },
      responses: { 200: { description: "Stored", content: { "application/json": { schema: DestinationSchema } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const config = c.req.valid("json") as DestinationConfig;
      if (config.segment && !(await getSegment(c.var.db, config.segment))) {
        throw new ApiError("invalid_request", `unknown segment "${config.segment}"`, { details: [{ path: "segment", message: "not a segment" }] });
      }
      await resolvePolicy(c.var.db, config.mergePolicy);
      return c.json(presentDestination(await putDestination(c.var.db, name, config)), 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      method: "get",
      path: "/destinations",
      tags,
      summary: "List destinations",
      responses: { 200: { description: "Destinations", content: { "application/json": { schema: listOf(DestinationSchema) } } }, ...errorResponses(401, 403) },
    }),
    async (c) => c.json({ items: (await listDestinations(c.var.db)).map(presentDestination), nextCursor: null }, 200),
  )
  .openapi(
    scopedRoute("admin", {
      method: "get",
      path: "/destinations/{name}",
      tags,
      summary: "One destination",
      request: { params: z.object({ name: z.string() }) },
      responses: { 200: { description: "The destination", content: { "application/json": { schema: DestinationSchema } } }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const d = await getDestination(c.var.db, c.req.valid("param").name);
      if (!d) throw new ApiError("not_found", `no destination ${c.req.valid("param").name}`);
      return c.json(presentDestination(d), 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      method: "post",
      path: "/destinations/{name}/runs",
      tags,
      summary: "Export now (`?retry=<runId>` re-runs a failed run into its own files)",
      request: { params: z.object({ name: z.string() }), query: z.object({ retry: z.string().optional() }) },
      responses: { 202: { description: "Queued", content: { "application/json": { schema: z.object({ runId: z.string() }) } } }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await getDestination(c.var.db, name))) throw new ApiError("not_found", `no destination ${name}`);
      const retry = c.req.valid("query").retry;
      if (retry) {
        const run = await getRun(c.var.db, retry);
        if (!run || run.destination !== name) throw new ApiError("not_found", `no run ${retry} of ${name}`);
        if (run.status !== "failed") throw new ApiError("conflict", "only a failed run can be retried");
      }
      return c.json({ runId: await startExport(c.env, name, retry ? "retry" : "manual", retry) }, 202);
    },
  )
  .openapi(
    scopedRoute("admin", {
      method: "get",
      path: "/destinations/{name}/runs",
      tags,
      summary: "Runs with status, counts, files and errors",
      request: { params: z.object({ name: z.string() }) },
      responses: { 200: { description: "Runs", content: { "application/json": { schema: listOf(RunSchema) } } }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await getDestination(c.var.db, name))) throw new ApiError("not_found", `no destination ${name}`);
      return c.json({ items: (await listRuns(c.var.db, name)).map(presentRun), nextCursor: null }, 200);
    },
  );

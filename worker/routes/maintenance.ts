import { z } from "@hono/zod-openapi";
import { listOf } from "../../shared/schemas/common";
import { MaintenanceRunSchema, RetentionBody } from "../../shared/schemas/config";
import { getDestination, type PartInfo } from "../db/queries/exports";
import { putSetting } from "../db/queries/namespaces";
import { listMaintenanceRuns, type MaintenanceRunRow } from "../db/queries/retention";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { scopedRoute } from "../lib/route";
import { createRouter } from "../lib/router";
import { toIso } from "../lib/time";
import { RETENTION_SETTING, retentionSettings, startMaintenance } from "../maintenance/retention";

const RetentionSchema = z.object({ pseudonymousProfileDays: z.number().nullable(), archiveDestination: z.string().nullable() }).meta({ id: "Retention" });

const presentRun = (r: MaintenanceRunRow) => ({
  runId: r.id,
  status: r.status as "queued" | "running" | "completed" | "failed",
  trigger: r.trigger,
  eventsExpired: r.eventsExpired,
  eventsArchived: r.eventsArchived,
  profilesExpired: r.profilesExpired,
  parts: (r.parts as PartInfo[]).map((p) => ({ path: p.path ?? p.name, rows: p.rows, bytes: p.bytes, sha256: p.sha256 })),
  error: r.error ?? null,
  startedAt: toIso(r.startedAt),
  finishedAt: r.finishedAt ? toIso(r.finishedAt) : null,
});

export const maintenanceRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "putRetentionSettings",
      method: "put",
      path: "/settings/retention",
      tags: ["Retention"],
      summary: "Pseudonymous profile expiry and the archive destination for expired events",
      request: { body: jsonBody(RetentionBody) },
      responses: { 200: { description: "The stored settings", content: { "application/json": { schema: RetentionSchema } } }, ...errorResponses(400) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const current = await retentionSettings(c.var.db);
      const next = {
        pseudonymousProfileDays: body.pseudonymousProfileDays === undefined ? (current.pseudonymousProfileDays ?? null) : body.pseudonymousProfileDays,
        archiveDestination: body.archiveDestination === undefined ? (current.archiveDestination ?? null) : body.archiveDestination,
      };
      if (next.archiveDestination) {
        const destination = await getDestination(c.var.db, next.archiveDestination);
        if (!destination || destination.type === "webhook") {
          throw new ApiError("invalid_request", `no r2, s3 or azure destination "${next.archiveDestination}"`, { details: [{ path: "archiveDestination", message: "create it with PUT /v1/destinations/:name first" }] });
        }
      }
      await putSetting(c.var.db, RETENTION_SETTING, next);
      return c.json(next, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getRetentionSettings",
      method: "get",
      path: "/settings/retention",
      tags: ["Retention"],
      summary: "The retention settings",
      responses: { 200: { description: "Settings", content: { "application/json": { schema: RetentionSchema } } } },
    }),
    async (c) => {
      const s = await retentionSettings(c.var.db);
      return c.json({ pseudonymousProfileDays: s.pseudonymousProfileDays ?? null, archiveDestination: s.archiveDestination ?? null }, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "startMaintenanceRun",
      method: "post",
      path: "/maintenance/runs",
      tags: ["Retention"],
      summary: "Run retention now (it also runs daily from the cron): expire events past their dataset's TTL and idle pseudonymous profiles",
      responses: { 202: { description: "Started", content: { "application/json": { schema: z.object({ runId: z.string() }) } } } },
    }),
    async (c) => c.json({ runId: await startMaintenance(c.env, "manual") }, 202),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "listMaintenanceRuns",
      method: "get",
      path: "/maintenance/runs",
      tags: ["Retention"],
      summary: "Recent retention runs with their status and counts",
      responses: { 200: { description: "Runs, newest first", content: { "application/json": { schema: listOf(MaintenanceRunSchema) } } } },
    }),
    async (c) => c.json({ items: (await listMaintenanceRuns(c.var.db)).map(presentRun), nextCursor: null }, 200),
  );

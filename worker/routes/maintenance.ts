import { z } from "@hono/zod-openapi";
import { listOf } from "../../shared/schemas/common";
import { MaintenanceRunSchema } from "../../shared/schemas/config";
import type { PartInfo } from "../db/queries/exports";
import { listMaintenanceRuns, type MaintenanceRunRow } from "../db/queries/retention";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { toIso } from "../lib/time";
import { startMaintenance } from "../maintenance/retention";

const presentRun = (r: MaintenanceRunRow) => ({
  runId: r.id,
  status: r.status as "queued" | "running" | "completed" | "failed",
  trigger: r.trigger,
  eventsExpired: r.eventsExpired,
  eventsArchived: r.eventsArchived,
  profilesExpired: r.profilesExpired,
  parts: (r.parts as PartInfo[]).map((p) => ({
    path: p.path ?? p.name,
    rows: p.rows,
    bytes: p.bytes,
    sha256: p.sha256,
  })),
  error: r.error ?? null,
  startedAt: toIso(r.startedAt),
  finishedAt: r.finishedAt ? toIso(r.finishedAt) : null,
});

export const maintenanceRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "startMaintenanceRun",
      method: "post",
      path: "/maintenance/runs",
      tags: ["Retention"],
      summary:
        "Run retention now (it also runs daily from the cron): expire events past their dataset's TTL and idle pseudonymous profiles",
      responses: {
        202: {
          description: "Started",
          content: { "application/json": { schema: z.object({ runId: z.string() }) } },
        },
      },
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
      responses: {
        200: {
          description: "Runs, newest first",
          content: { "application/json": { schema: listOf(MaintenanceRunSchema) } },
        },
      },
    }),
    async (c) =>
      c.json(
        { items: (await listMaintenanceRuns(c.var.db)).map(presentRun), nextCursor: null },
        200,
      ),
  );

import { z } from "@hono/zod-openapi";
import { listOf, ResourceName } from "../../shared/schemas/common";
import {
  DataViewBody,
  type DataViewInput,
  DataViewSchema,
  ReportSchema,
} from "../../shared/schemas/data-views";
import { JOURNEYS_VIEW_ID, journeysView, runJourneysReport } from "../analytics/journeys";
import { type Report, type ReportRequest, reportCsv, runViewReport } from "../analytics/report";
import { type CompiledView, compileView } from "../analytics/view";
import { cachedDatasets, findMergePolicy } from "../config/service";
import type { Db } from "../db/client";
import {
  type DataViewRow,
  deleteDataView,
  getDataView,
  listDataViews,
  putDataView,
} from "../db/queries/analytics";
import { toPolicy } from "../db/queries/merge-policies";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError, orFail } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { DEFAULT_POLICY } from "../profiles/merge";
import { checkTimeZone, reportRange } from "../reports/time";

const knownZone = (tz: string) => {
  try {
    orFail(checkTimeZone(tz));
    return true;
  } catch {
    return false;
  }
};

const iso = (ms: number) => new Date(ms).toISOString();

function present(view: CompiledView, row?: DataViewRow) {
  return {
    ...view.definition,
    id: view.id,
    builtIn: view.builtIn,
    ...(row ? { createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt) } : {}),
  };
}

/** A stored view compiled again (checked when written; datasets may have gone since). */
function compileStored(row: DataViewRow): CompiledView {
  const compiled = compileView(row.id, row.definition as DataViewInput, {
    checkTimeZone: knownZone,
  });
  if (!compiled.ok)
    throw new ApiError(
      "conflict",
      `data view "${row.id}" no longer compiles: ${compiled.details.map((d) => `${d.path}: ${d.message}`).join("; ")}`,
    );
  return compiled.view;
}

async function findView(db: Db, id: string): Promise<{ view: CompiledView; row?: DataViewRow }> {
  if (id === JOURNEYS_VIEW_ID) return { view: journeysView };
  const row = await getDataView(db, id);
  if (!row) throw new ApiError("not_found", `no data view "${id}"`);
  return { view: compileStored(row), row };
}

const ViewId = z.object({ id: ResourceName.meta({ example: "purchases" }) });

const ReportQuery = z.object({
  from: z.string().optional().meta({
    description:
      "First day (YYYY-MM-DD, in tz) or an ISO-8601 instant; default 30 days before `to`.",
    example: "2026-11-01",
  }),
  to: z.string().optional().meta({
    description:
      "Last day, inclusive (YYYY-MM-DD), or an ISO-8601 instant (exclusive); default today.",
    example: "2026-11-29",
  }),
  tz: z.string().optional().meta({
    description: "IANA time zone; default the view's (UTC if it has none).",
    example: "Europe/Amsterdam",
  }),
  dimension: z
    .string()
    .optional()
    .meta({ description: "A dimension id of the view; default its first.", example: "journey" }),
  metrics: z.string().optional().meta({
    description: "Comma-separated metric ids (base or calculated); default all.",
    example: "sent,delivered,clickThrough",
  }),
  limit: z.coerce.number<string>().int().min(1).max(1000).default(100).meta({
    description: "Items at most (non-time dimensions: the top ones by the first metric).",
    example: 100,
  }),
  format: z.enum(["json", "csv"]).default("json"),
});

export const dataViewsRouter = createRouter()
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "listDataViews",
      method: "get",
      path: "/data-views",
      tags: ["Journey analytics"],
      summary: "List data views (the built-in journeys view first)",
      responses: {
        200: {
          description: "Data views",
          content: { "application/json": { schema: listOf(DataViewSchema) } },
        },
      },
    }),
    async (c) => {
      const rows = await listDataViews(c.var.db);
      return c.json(
        {
          items: [
            present(journeysView),
            ...rows.map((r) => present(compileStored(r), r)),
          ] as z.infer<typeof DataViewSchema>[],
          nextCursor: null,
        },
        200,
      );
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "getDataView",
      method: "get",
      path: "/data-views/{id}",
      tags: ["Journey analytics"],
      summary: "A data view's definition",
      request: { params: ViewId },
      responses: {
        200: {
          description: "The view",
          content: { "application/json": { schema: DataViewSchema } },
        },
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { view, row } = await findView(c.var.db, c.req.valid("param").id);
      return c.json(present(view, row) as z.infer<typeof DataViewSchema>, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "putDataView",
      method: "put",
      path: "/data-views/{id}",
      tags: ["Journey analytics"],
      summary:
        "Create or replace a data view: dimensions, metrics with filters, calculated metrics",
      request: { params: ViewId, body: jsonBody(DataViewBody) },
      responses: {
        200: {
          description: "The stored view",
          content: { "application/json": { schema: DataViewSchema } },
        },
        ...errorResponses(409),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (id === JOURNEYS_VIEW_ID)
        throw new ApiError(
          "conflict",
          `"${JOURNEYS_VIEW_ID}" is built in and cannot be changed; save your own view under another id`,
        );
      const body = c.req.valid("json");
      const datasets = await cachedDatasets(c.var.db);
      const compiled = compileView(id, body, {
        knownDatasets: new Set(datasets.filter((d) => d.kind !== "records").map((d) => d.name)),
        checkTimeZone: knownZone,
      });
      if (!compiled.ok)
        throw new ApiError("invalid_request", "the data view has problems", {
          details: compiled.details,
        });
      const row = await putDataView(c.var.db, id, body.name, body);
      return c.json(present(compiled.view, row) as z.infer<typeof DataViewSchema>, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "deleteDataView",
      method: "delete",
      path: "/data-views/{id}",
      tags: ["Journey analytics"],
      summary: "Delete a data view",
      request: { params: ViewId },
      responses: { 204: { description: "Deleted" }, ...errorResponses(404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (id === JOURNEYS_VIEW_ID)
        throw new ApiError("conflict", `"${JOURNEYS_VIEW_ID}" is built in`);
      if (!(await deleteDataView(c.var.db, id)))
        throw new ApiError("not_found", `no data view "${id}"`);
      return c.body(null, 204);
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "getDataViewReport",
      method: "get",
      path: "/data-views/{id}/report",
      tags: ["Journey analytics"],
      summary:
        "A report over a data view: metrics per value of one dimension, with totals, in JSON or CSV",
      request: { params: ViewId, query: ReportQuery },
      responses: {
        200: {
          description: "The report (CSV: the dimension, each metric and `complete` per row)",
          content: {
            "application/json": { schema: ReportSchema },
            "text/csv": { schema: z.string() },
          },
        },
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const q = c.req.valid("query");
      const { view } = await findView(c.var.db, id);
      const tz = orFail(checkTimeZone(q.tz ?? view.timezone));
      const now = Date.now();
      const request: ReportRequest = {
        range: orFail(reportRange(q.from, q.to, tz, now)),
        tz,
        now,
        dimension: q.dimension,
        metrics: q.metrics
          ?.split(",")
          .map((m) => m.trim())
          .filter(Boolean),
        limit: q.limit,
      };
      let report: Report;
      if (view.builtIn) report = orFail(await runJourneysReport(c.var.db.$client, request));
      else {
        const policy = await findMergePolicy(c.var.db);
        report = orFail(
          await runViewReport(
            c.var.db.$client,
            view,
            request,
            policy ? toPolicy(policy) : DEFAULT_POLICY,
          ),
        );
      }
      if (q.format === "csv") {
        return c.body(reportCsv(report), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${id}-${report.dimension}.csv"`,
        });
      }
      return c.json(report, 200);
    },
  );

import { z } from "@hono/zod-openapi";
import { listOf, ResourceName } from "../../shared/schemas/common";
import { DataViewBody, DataViewSchema, ReportSchema } from "../../shared/schemas/data-views";
import { JOURNEYS_VIEW_ID, journeysView } from "../analytics/journeys";
import { reportCsv } from "../analytics/report";
import { compileStored, dataViewReport, findView, knownZone } from "../analytics/service";
import { type CompiledView, compileView } from "../analytics/view";
import { cachedDatasets } from "../config/service";
import {
  type DataViewRow,
  deleteDataView,
  listDataViews,
  putDataView,
} from "../db/queries/analytics";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";

const iso = (ms: number) => new Date(ms).toISOString();

function present(view: CompiledView, row?: DataViewRow) {
  return {
    ...view.definition,
    id: view.id,
    builtIn: view.builtIn,
    ...(row ? { createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt) } : {}),
  };
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
      const report = await dataViewReport(c.var.db, id, q);
      if (q.format === "csv") {
        return c.body(reportCsv(report), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${id}-${report.dimension}.csv"`,
        });
      }
      return c.json(report, 200);
    },
  );

import { Validator } from "@cfworker/json-schema";
import { z } from "@hono/zod-openapi";
import { listOf, ResourceName } from "../../shared/schemas/common";
import { COMPUTED_DATASET } from "../../shared/schemas/computed";
import {
  DatasetBody,
  DatasetSchema,
  GraphSettingsBody,
  NamespaceBody,
  NamespaceSchema,
} from "../../shared/schemas/config";
import { GraphEffectSchema } from "../../shared/schemas/ingest";
import { changeGraphSettings, changeNamespace } from "../config/identity-rules";
import { saveDataset } from "../config/service";
import { type DatasetRow, getDataset, listDatasets } from "../db/queries/datasets";
import { listNamespaces, type NamespaceRow } from "../db/queries/namespaces";
import { getSetting } from "../db/queries/settings";
import { DEFAULT_MAX_IDENTITIES } from "../graph/identity-config";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError } from "../lib/errors";
import { BooleanQuery, errorResponses, jsonBody } from "../lib/openapi";
import { toIso } from "../lib/time";

const presentDataset = (d: DatasetRow) => ({
  name: d.name,
  kind: d.kind as "records" | "events" | "any",
  schema: d.schema ?? null,
  description: d.description ?? null,
  ttlDays: d.ttlDays ?? null,
  createdAt: toIso(d.createdAt),
  updatedAt: toIso(d.updatedAt),
});

const presentNamespace = (n: NamespaceRow) => ({
  code: n.code,
  normalize: n.normalize,
  unique: n.unique,
  priority: n.priority,
  maxPerGraph: n.unique ? 1 : (n.maxPerGraph ?? null),
  blockedValues: n.blockedValues,
  builtIn: n.builtIn,
  pseudonymous: n.pseudonymous,
  description: n.description ?? null,
});

function checkSchema(schema: Record<string, unknown>) {
  const problem = (message: string) =>
    new ApiError("invalid_request", "the dataset schema is not a usable JSON Schema", {
      details: [{ path: "schema", message }],
    });
  if (
    schema.$schema !== undefined &&
    schema.$schema !== "https://json-schema.org/draft/2020-12/schema"
  ) {
    throw problem("only JSON Schema 2020-12 is supported ($schema)");
  }
  try {
    new Validator(schema as never, "2020-12").validate({});
  } catch (err) {
    throw problem(err instanceof Error ? err.message : String(err));
  }
}

const PreviewQuery = z.object({
  preview: BooleanQuery.optional().meta({
    description:
      "`true`: answer what the change would do to existing graphs (bounded to 1,000 profiles, `truncated` when there are more), and save nothing",
  }),
  apply: z.enum(["retroactive"]).optional().meta({
    description:
      "`retroactive`: save the change and apply it to existing graphs in the background; answers `{ runId }` (GET /v1/graph-runs/:id)",
  }),
});
const RunStarted = z.object({ runId: z.string() });
const ExistingGraphs = z.object({ wouldChange: z.number().int(), truncated: z.boolean() }).meta({
  id: "ExistingGraphs",
  description:
    "A change saved for new data only: how many existing graphs (profiles) it would change if applied (`?apply=retroactive`), counted over the first 1,000 in scope; `truncated` when there are more",
});
const SavedNamespace = NamespaceSchema.extend({ existingGraphs: ExistingGraphs.optional() });
const SavedGraphSettings = z.object({
  maxIdentities: z.number().int(),
  existingGraphs: ExistingGraphs.optional(),
});

export const configRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "putDataset",
      method: "put",
      path: "/datasets/{name}",
      tags: ["Datasets"],
      summary: "Create or replace a dataset (kind, optional JSON Schema 2020-12)",
      request: { params: z.object({ name: ResourceName }), body: jsonBody(DatasetBody) },
      responses: {
        200: {
          description: "The stored dataset",
          content: { "application/json": { schema: DatasetSchema } },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const body = c.req.valid("json");
      if (name === "default")
        throw new ApiError(
          "conflict",
          "the `default` dataset is built in and takes records and events; it cannot be replaced",
        );
      if (name === COMPUTED_DATASET)
        throw new ApiError(
          "conflict",
          "`computed` is where Tessera keeps computed attributes (see /v1/computed-attributes); choose another dataset name",
        );
      if (body.schema) checkSchema(body.schema);
      if (body.ttlDays && body.kind === "records") {
        throw new ApiError(
          "invalid_request",
          "ttlDays applies to events: a records dataset keeps its latest attributes",
          { details: [{ path: "ttlDays", message: "only for events and any datasets" }] },
        );
      }
      const { row } = await saveDataset(c, {
        name,
        kind: body.kind,
        schema: body.schema ?? null,
        description: body.description ?? null,
        ttlDays: body.ttlDays ?? null,
      });
      return c.json(presentDataset(row), 200);
    },
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "listDatasets",
      method: "get",
      path: "/datasets",
      tags: ["Datasets"],
      summary: "List datasets",
      responses: {
        200: {
          description: "Datasets",
          content: { "application/json": { schema: listOf(DatasetSchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json({ items: (await listDatasets(c.var.db)).map(presentDataset), nextCursor: null }, 200),
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "getDataset",
      method: "get",
      path: "/datasets/{name}",
      tags: ["Datasets"],
      summary: "One dataset",
      request: { params: z.object({ name: z.string() }) },
      responses: {
        200: {
          description: "The dataset",
          content: { "application/json": { schema: DatasetSchema } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const row = await getDataset(c.var.db, c.req.valid("param").name);
      if (!row) throw new ApiError("not_found", `no dataset ${c.req.valid("param").name}`);
      return c.json(presentDataset(row), 200);
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "listNamespaces",
      method: "get",
      path: "/namespaces",
      tags: ["Namespaces"],
      summary: "List namespaces with their normalization, uniqueness and priority",
      responses: {
        200: {
          description: "Namespaces",
          content: { "application/json": { schema: listOf(NamespaceSchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json(
        { items: (await listNamespaces(c.var.db)).map(presentNamespace), nextCursor: null },
        200,
      ),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "putNamespace",
      method: "put",
      path: "/namespaces/{code}",
      tags: ["Namespaces"],
      summary:
        "Create or change a namespace (`?preview=true`: what the change would do to existing graphs, nothing saved)",
      request: {
        params: z.object({ code: ResourceName }),
        query: PreviewQuery,
        body: jsonBody(NamespaceBody),
      },
      responses: {
        200: {
          description:
            "The stored namespace, with `existingGraphs` (what the change would do if applied to existing graphs); with `?preview=true` the change's effect on existing graphs; with `?apply=retroactive` the run applying it",
          content: {
            "application/json": {
              schema: z.union([SavedNamespace, GraphEffectSchema, RunStarted]),
            },
          },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const { code } = c.req.valid("param");
      const change = await changeNamespace(c, code, c.req.valid("json"), c.req.valid("query"));
      if (change.kind === "preview") return c.json(change.effect, 200);
      if (change.kind === "run") return c.json({ runId: change.runId }, 200);
      return c.json(
        { ...presentNamespace(change.saved), existingGraphs: change.existingGraphs },
        200,
      );
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "putGraphSettings",
      method: "put",
      path: "/settings/graph",
      tags: ["Namespaces"],
      summary:
        "Graph limits: identities per profile (`?preview=true`: the change's effect on existing graphs, nothing saved)",
      request: { query: PreviewQuery, body: jsonBody(GraphSettingsBody) },
      responses: {
        200: {
          description:
            "The stored settings, with `existingGraphs`; with `?preview=true` the change's effect on existing graphs; with `?apply=retroactive` the run applying it",
          content: {
            "application/json": {
              schema: z.union([SavedGraphSettings, GraphEffectSchema, RunStarted]),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const change = await changeGraphSettings(c, body, c.req.valid("query"));
      if (change.kind === "preview") return c.json(change.effect, 200);
      if (change.kind === "run") return c.json({ runId: change.runId }, 200);
      return c.json({ ...change.saved, existingGraphs: change.existingGraphs }, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getGraphSettings",
      method: "get",
      path: "/settings/graph",
      tags: ["Namespaces"],
      summary: "Graph limits",
      responses: {
        200: {
          description: "Settings",
          content: { "application/json": { schema: GraphSettingsBody } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json(
        {
          maxIdentities:
            (await getSetting(c.var.db, "graph"))?.maxIdentities ?? DEFAULT_MAX_IDENTITIES,
        },
        200,
      ),
  );

/**
 * Computed attributes (SPEC §7): definitions here; the values are kept by the writer in
 * the commit that ingests their events, and computed in the background for existing
 * profiles when a definition is created, changed or deleted.
 */
import { z } from "@hono/zod-openapi";
import { listOf, ResourceName } from "../../shared/schemas/common";
import {
  ComputedAttributeBody,
  ComputedAttributeSchema,
  MAX_COMPUTED_ATTRIBUTES,
} from "../../shared/schemas/computed";
import { definitionProblems } from "../computed/definitions";
import { removeComputed, saveComputed } from "../config/service";
import {
  type ComputedRow,
  countIdentities,
  getComputed,
  listComputed,
} from "../db/queries/computed";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { toIso } from "../lib/time";
import type { StoredDefinition } from "../model/computed";
import type { ComputedJob } from "../model/jobs";

const tags = ["Computed attributes"];

function present(row: ComputedRow, totalIdentities?: number) {
  const d = row.definition as unknown as StoredDefinition;
  return {
    id: row.id,
    name: row.name,
    aggregate: d.aggregate,
    ...(d.field ? { field: d.field } : {}),
    ...(d.filter ? { filter: d.filter } : {}),
    ...(d.within ? { within: d.within } : {}),
    status: row.status as "backfilling" | "ready",
    progress: {
      computedIdentities: row.computedIdentities,
      ...(totalIdentities !== undefined ? { totalIdentities } : {}),
    },
    createdAt: toIso(row.createdAt),
    updatedAt: toIso(row.updatedAt),
  };
}

/** Starts (or restarts) the background computation of `id` at `version`. */
async function startBackfill(
  env: { JOBS_QUEUE: Queue },
  id: string,
  version: number,
): Promise<void> {
  await env.JOBS_QUEUE.send({
    kind: "computed-backfill",
    attributeId: id,
    version,
    after: 0,
    computed: 0,
  } satisfies ComputedJob);
}

export const computedRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "putComputedAttribute",
      method: "put",
      path: "/computed-attributes/{id}",
      tags,
      summary:
        "Create or change a computed attribute; every profile's value is computed in the background, new events count at once",
      request: { params: z.object({ id: ResourceName }), body: jsonBody(ComputedAttributeBody) },
      responses: {
        200: {
          description: "The stored definition (status: backfilling)",
          content: { "application/json": { schema: ComputedAttributeSchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { name, ...definition } = c.req.valid("json");
      const details = definitionProblems(definition);
      if (details.length)
        throw new ApiError("invalid_request", "the computed attribute is not valid", { details });
      const existing = await listComputed(c.var.db);
      if (!existing.some((r) => r.id === id) && existing.length >= MAX_COMPUTED_ATTRIBUTES) {
        throw new ApiError(
          "invalid_request",
          `at most ${MAX_COMPUTED_ATTRIBUTES} computed attributes`,
          {
            details: [{ path: "id", message: `${existing.length} are defined; delete one first` }],
          },
        );
      }
      const stored = await saveComputed(c, { id, name, definition });
      await startBackfill(c.env, id, stored.version);
      return c.json(present(stored, await countIdentities(c.var.db.$client)), 200);
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "listComputedAttributes",
      method: "get",
      path: "/computed-attributes",
      tags,
      summary: "List computed attributes with their status",
      responses: {
        200: {
          description: "Computed attributes",
          content: { "application/json": { schema: listOf(ComputedAttributeSchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => {
      const rows = await listComputed(c.var.db);
      const total = rows.some((r) => r.status === "backfilling")
        ? await countIdentities(c.var.db.$client)
        : undefined;
      return c.json(
        {
          items: rows.map((r) => present(r, r.status === "backfilling" ? total : undefined)),
          nextCursor: null,
        },
        200,
      );
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "getComputedAttribute",
      method: "get",
      path: "/computed-attributes/{id}",
      tags,
      summary: "One computed attribute with its background progress",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: {
          description: "The computed attribute",
          content: { "application/json": { schema: ComputedAttributeSchema } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const row = await getComputed(c.var.db, c.req.valid("param").id);
      if (!row) throw new ApiError("not_found", `no computed attribute ${c.req.valid("param").id}`);
      return c.json(
        present(
          row,
          row.status === "backfilling" ? await countIdentities(c.var.db.$client) : undefined,
        ),
        200,
      );
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "deleteComputedAttribute",
      method: "delete",
      path: "/computed-attributes/{id}",
      tags,
      summary: "Remove a computed attribute; its values leave every profile in the background",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: {
          description: "Removed",
          content: {
            "application/json": { schema: z.object({ id: z.string(), deleted: z.literal(true) }) },
          },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await getComputed(c.var.db, id);
      if (!row || !(await removeComputed(c, id)))
        throw new ApiError("not_found", `no computed attribute ${id}`);
      // The same walk as a backfill: with the definition gone, it removes the values.
      await startBackfill(c.env, id, row.version);
      return c.json({ id, deleted: true as const }, 200);
    },
  );

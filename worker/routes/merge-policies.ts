import { z } from "@hono/zod-openapi";
import { listOf, ResourceName } from "../../shared/schemas/common";
import { MergePolicyBody, MergePolicySchema } from "../../shared/schemas/profiles";
import { findMergePolicy, saveMergePolicy } from "../config/service";
import { listMergePolicies, type MergePolicyRow } from "../db/queries/merge-policies";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";

const present = (r: MergePolicyRow) => ({
  name: r.name,
  type: r.type,
  datasets: r.datasets,
  idStitching: r.idStitching,
  default: r.isDefault,
});

export const mergePoliciesRouter = createRouter()
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "listMergePolicies",
      method: "get",
      path: "/merge-policies",
      tags: ["Merge policies"],
      summary: "List merge policies",
      responses: {
        200: {
          description: "Policies",
          content: { "application/json": { schema: listOf(MergePolicySchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json({ items: (await listMergePolicies(c.var.db)).map(present), nextCursor: null }, 200),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "putMergePolicy",
      method: "put",
      path: "/merge-policies/{name}",
      tags: ["Merge policies"],
      summary: "Create or replace a merge policy (`default: true` makes it the default)",
      request: { params: z.object({ name: ResourceName }), body: jsonBody(MergePolicyBody) },
      responses: {
        200: {
          description: "The stored policy",
          content: { "application/json": { schema: MergePolicySchema } },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const body = c.req.valid("json");
      const existing = await findMergePolicy(c.var.db, name);
      if (existing?.isDefault && body.default === false) {
        throw new ApiError(
          "conflict",
          "one policy is always the default: make another policy the default instead",
        );
      }
      if (body.type === "dataset-precedence" && body.datasets.length === 0) {
        throw new ApiError("invalid_request", "a dataset-precedence policy lists its datasets", {
          details: [{ path: "datasets", message: "at least one dataset" }],
        });
      }
      const row = await saveMergePolicy(c, {
        name,
        type: body.type,
        datasets: body.datasets,
        idStitching: body.idStitching,
        isDefault: body.default ?? existing?.isDefault ?? false,
      });
      return c.json(present(row), 200);
    },
  );

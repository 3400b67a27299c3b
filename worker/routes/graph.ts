import { z } from "@hono/zod-openapi";
import { IdentityParams, listOf } from "../../shared/schemas/common";
import {
  ConfigProposalBody,
  GraphChangeSchema,
  GraphRunSchema,
  GraphSchema,
} from "../../shared/schemas/config";
import { GraphEffectSchema, IdentityInput } from "../../shared/schemas/ingest";
import { assertMayReadProfile } from "../auth/restrict";
import { revertGraphRun } from "../config/identity-rules";
import { type GraphRunRow, getGraphRun, listGraphRuns } from "../db/queries/graph-runs";
import { loadIdentityConfig } from "../graph/identity-config";
import { resolveIdentity, resolveIdentityString } from "../graph/identity-param";
import { identityGraph } from "../graph/read";
import { simulate } from "../graph/simulate";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { consistentAnswer } from "../lib/consistency";
import { ApiError, orFail } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { toIso } from "../lib/time";
import { deleteIdentity, deleteLink } from "../writer/client";

const tags = ["Identity graph"];

export const graphRouter = createRouter()
  .openapi(
    scopedRoute(
      "profiles:read",
      {
        operationId: "getIdentityGraph",
        method: "get",
        path: "/identities/{namespace}/{id}/graph",
        tags,
        summary:
          "The identity graph of an identity: identities, links (with dataset and times) and history",
        request: { params: IdentityParams },
        responses: {
          200: {
            description: "The graph",
            content: { "application/json": { schema: GraphSchema } },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
      { identityReadable: true },
    ),
    async (c) => {
      const { namespace, id } = c.req.valid("param");
      const graph = await identityGraph(c, namespace, id, (identities) =>
        assertMayReadProfile(c, identities),
      );
      return c.json(graph, 200);
    },
  )
  .openapi(
    scopedRoute("profiles:write", {
      operationId: "removeIdentity",
      method: "delete",
      path: "/identities/{namespace}/{id}",
      tags,
      summary: "Remove one identity; its graph splits into the parts that remain connected",
      request: { params: IdentityParams },
      responses: {
        200: {
          description: "Removed",
          content: { "application/json": { schema: GraphChangeSchema } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { namespace, id } = c.req.valid("param");
      const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
      const result = consistentAnswer(
        c,
        await deleteIdentity(c.env, orFail(resolveIdentity(config, namespace, id))),
      );
      if (!result.found) throw new ApiError("not_found", `no identity ${namespace}:${id}`);
      return c.json({ profileId: result.profileId!, profiles: result.profiles }, 200);
    },
  )
  .openapi(
    scopedRoute("profiles:write", {
      operationId: "deleteLink",
      method: "delete",
      path: "/links",
      tags,
      summary: "Undo one link (`?from=ns:id&to=ns:id`); its graph splits if it held it together",
      request: {
        query: z.object({
          from: z.string().meta({ example: "crm:123" }),
          to: z.string().meta({ example: "email:john@luma.com" }),
        }),
      },
      responses: {
        200: {
          description: "Removed",
          content: { "application/json": { schema: GraphChangeSchema } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { from, to } = c.req.valid("query");
      const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
      const a = orFail(resolveIdentityString(config, from, "from"));
      const b = orFail(resolveIdentityString(config, to, "to"));
      const result = consistentAnswer(c, await deleteLink(c.env, a, b));
      if (!result.found) throw new ApiError("not_found", `no link between ${from} and ${to}`);
      return c.json({ profileId: result.profileId!, profiles: result.profiles }, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "simulateIdentities",
      method: "post",
      path: "/identities/simulate",
      tags,
      summary:
        "What records or events would do to identity graphs: merges, splits, moves, evictions, segment changes, a before/after sample. Nothing is written",
      request: {
        body: jsonBody(
          z
            .strictObject({
              items: z.array(z.unknown()).min(1).max(1000).optional().meta({
                description: "Records or events as for ingest (an item with `type` is an event)",
              }),
              config: ConfigProposalBody.optional().meta({
                description:
                  "Proposed namespace settings and `maxIdentities`: their effect on existing graphs",
              }),
              scope: z
                .strictObject({
                  identities: z
                    .array(IdentityInput)
                    .max(100)
                    .optional()
                    .meta({ description: "Only the graphs holding these identities" }),
                  namespace: z
                    .string()
                    .optional()
                    .meta({ description: "Only graphs holding an identity of this namespace" }),
                  limit: z.number().int().min(1).max(10_000).optional().meta({
                    description:
                      "Profiles considered at most (default 1,000); `truncated` says when there are more",
                  }),
                })
                .optional(),
            })
            .meta({ id: "SimulateInput" }),
        ),
      },
      responses: {
        200: {
          description: "The effect",
          content: { "application/json": { schema: GraphEffectSchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => c.json(await simulate(c, c.req.valid("json")), 200),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "listGraphRuns",
      method: "get",
      path: "/graph-runs",
      tags,
      summary: "Configuration changes applied to existing graphs (and reverts), newest first",
      responses: {
        200: {
          description: "Runs",
          content: { "application/json": { schema: listOf(GraphRunSchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json({ items: (await listGraphRuns(c.var.db, 50)).map(presentRun), nextCursor: null }, 200),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getGraphRun",
      method: "get",
      path: "/graph-runs/{id}",
      tags,
      summary:
        "A configuration change applied to existing graphs (or reverted): status and what it did",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: {
          description: "The run",
          content: { "application/json": { schema: GraphRunSchema } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const run = await getGraphRun(c.var.db, c.req.valid("param").id);
      if (!run) throw new ApiError("not_found", `no graph run ${c.req.valid("param").id}`);
      return c.json(presentRun(run), 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "revertGraphRun",
      method: "post",
      path: "/graph-runs/{id}/revert",
      tags,
      summary:
        "Restore the settings a run applied and re-apply them to the same graphs, in the background",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        202: {
          description: "The reverting run",
          content: { "application/json": { schema: z.object({ runId: z.string() }) } },
        },
        ...errorResponses(401, 403, 404, 409),
      },
    }),
    async (c) => {
      const runId = await revertGraphRun(c, c.req.valid("param").id);
      return c.json({ runId }, 202);
    },
  );

function presentRun(run: GraphRunRow) {
  return {
    runId: run.id,
    kind: run.kind as "apply" | "revert",
    status: run.status as "running" | "completed",
    change: run.change,
    graphsChecked: run.graphsChecked,
    merges: run.merges,
    splits: run.splits,
    moves: run.moves,
    evictions: run.evictions,
    ...(run.reverts ? { reverts: run.reverts } : {}),
    createdAt: toIso(run.createdAt),
    updatedAt: toIso(run.updatedAt),
  };
}

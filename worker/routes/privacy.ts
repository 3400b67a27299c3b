import { z } from "@hono/zod-openapi";
import { identityKey } from "../../shared/identity/normalize";
import { IdentityParams, listOf, pageLimit } from "../../shared/schemas/common";
import { EraseReceiptSchema } from "../../shared/schemas/profiles";
import { listSuppressions } from "../db/queries/suppressions";
import { loadIdentityConfig } from "../graph/identity-config";
import { resolveIdentity, resolveIdentityString } from "../graph/identity-param";
import { auditRead } from "../http/audit";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { consistentAnswer } from "../lib/consistency";
import { decodeCursor, pageOf } from "../lib/cursor";
import { ApiError, orFail } from "../lib/errors";
import { BooleanQuery, errorResponses } from "../lib/openapi";
import { toIso } from "../lib/time";
import { exportProfileData } from "../privacy/export";
import { suppressionHasher } from "../privacy/suppression";
import { erase, liftSuppression } from "../writer/client";

export const privacyRouter = createRouter()
  .openapi(
    scopedRoute("profiles:delete", {
      operationId: "eraseProfile",
      method: "delete",
      path: "/profiles/by-identity/{namespace}/{id}",
      tags: ["Privacy"],
      summary: "Erase a person: every identity, link, fragment, event and membership of the graph",
      request: {
        params: IdentityParams,
        query: z.object({
          suppress: BooleanQuery.optional().meta({
            description: "Block the identities from coming back (default true).",
          }),
        }),
      },
      responses: {
        200: {
          description: "Erase receipt",
          content: { "application/json": { schema: EraseReceiptSchema } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { namespace, id } = c.req.valid("param");
      const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
      const receipt = consistentAnswer(
        c,
        await erase(
          c.env,
          orFail(resolveIdentity(config, namespace, id)),
          c.req.valid("query").suppress !== false,
        ),
      );
      if (!receipt) throw new ApiError("not_found", `no identity ${namespace}:${id}`);
      auditRead(c, "profile.erase", receipt.profileId, []);
      return c.json(receipt, 200);
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "exportProfileData",
      method: "get",
      path: "/profiles/by-identity/{namespace}/{id}/export",
      tags: ["Privacy"],
      summary: "Privacy access copy: everything held about the person as one JSON document",
      request: { params: IdentityParams },
      responses: {
        200: {
          description: "The access copy",
          content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { namespace, id } = c.req.valid("param");
      const data = await exportProfileData(c, namespace, id);
      auditRead(c, "profile.export", data.profileId, ["*"]);
      return c.json(data.document, 200);
    },
  )
  .openapi(
    scopedRoute("profiles:delete", {
      operationId: "listSuppressions",
      method: "get",
      path: "/suppressions",
      tags: ["Privacy"],
      summary: "Erased identities kept as salted hashes (never the values)",
      request: { query: z.object({ cursor: z.string().optional(), limit: pageLimit(100, 1000) }) },
      responses: {
        200: {
          description: "Suppressions",
          content: {
            "application/json": {
              schema: listOf(
                z.object({ hash: z.string(), namespace: z.string(), createdAt: z.string() }),
              ),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const rows = await listSuppressions(
        c.var.db,
        limit + 1,
        decodeCursor(cursor, { n: "number" })?.n,
      );
      const present = (r: (typeof rows)[number]) => ({
        hash: r.hash,
        namespace: r.namespace,
        createdAt: toIso(r.createdAt),
      });
      return c.json(
        pageOf(rows, limit, present, (last) => ({ n: last.createdAt })),
        200,
      );
    },
  )
  .openapi(
    scopedRoute("profiles:delete", {
      operationId: "deleteSuppressionByIdentity",
      method: "delete",
      path: "/suppressions",
      tags: ["Privacy"],
      summary:
        "Lift the suppression of one identity (`?identity=ns:id`), so it may be ingested again",
      request: { query: z.object({ identity: z.string() }) },
      responses: { 204: { description: "Lifted" }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
      const ref = orFail(resolveIdentityString(config, c.req.valid("query").identity, "identity"));
      const hash = await (await suppressionHasher(c.env))(identityKey(ref.namespace, ref.value));
      if (!consistentAnswer(c, await liftSuppression(c.env, hash)))
        throw new ApiError("not_found", "that identity is not suppressed");
      return c.body(null, 204);
    },
  )
  .openapi(
    scopedRoute("profiles:delete", {
      operationId: "deleteSuppression",
      method: "delete",
      path: "/suppressions/{hash}",
      tags: ["Privacy"],
      summary: "Lift a suppression by its hash",
      request: { params: z.object({ hash: z.string() }) },
      responses: { 204: { description: "Lifted" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      if (!consistentAnswer(c, await liftSuppression(c.env, c.req.valid("param").hash)))
        throw new ApiError("not_found", "no such suppression");
      return c.body(null, 204);
    },
  );

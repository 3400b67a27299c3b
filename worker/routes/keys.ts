import { z } from "@hono/zod-openapi";
import { listOf } from "../../shared/schemas/common";
import { ApiKeySchema, CreatedKeySchema, CreateKeyBody } from "../../shared/schemas/keys";
import { TokenBody } from "../../shared/schemas/personalization";
import type { Scope } from "../../shared/scopes";
import { hashKey, keyPrefix, newKeyId, newPublicKey, newSecretKey } from "../auth/keys";
import { mintToken } from "../auth/mint";
import { siteSecretFor } from "../auth/signing";
import { type ApiKeyRow, deleteApiKey, insertApiKey, listApiKeys } from "../db/queries/keys";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { toIso } from "../lib/time";
import { trackingOf } from "../tracking/settings";

function present(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as "secret" | "public",
    scopes: row.scopes as Scope[],
    origins: row.origins,
    tracking: trackingOf(row.tracking),
    keyPrefix: row.keyPrefix,
    createdAt: toIso(row.createdAt),
    lastUsedAt: row.lastUsedAt == null ? null : toIso(row.lastUsedAt),
  };
}

const tags = ["Keys"];

export const keysRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "createKey",
      method: "post",
      path: "/keys",
      tags,
      summary: "Create an API key (shown once)",
      request: { body: jsonBody(CreateKeyBody) },
      responses: {
        201: {
          description: "The key; `key` and `siteSecret` are shown only now.",
          content: { "application/json": { schema: CreatedKeySchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const id = newKeyId();
      const key = body.kind === "public" ? newPublicKey() : newSecretKey();
      const row = await insertApiKey(c.var.db, {
        id,
        name: body.name,
        kind: body.kind,
        keyHash: await hashKey(key),
        keyPrefix: keyPrefix(key),
        scopes: body.scopes,
        origins: body.origins ?? [],
        tracking: body.tracking ?? null,
        createdAt: Date.now(),
      });
      const siteSecret = body.kind === "public" ? await siteSecretFor(c.env, id) : undefined;
      return c.json({ ...present(row), key, ...(siteSecret ? { siteSecret } : {}) }, 201);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "listKeys",
      method: "get",
      path: "/keys",
      tags,
      summary: "List API keys (never the keys themselves)",
      responses: {
        200: {
          description: "Keys",
          content: { "application/json": { schema: listOf(ApiKeySchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => {
      const rows = await listApiKeys(c.var.db);
      return c.json({ items: rows.map(present), nextCursor: null }, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "deleteKey",
      method: "delete",
      path: "/keys/{id}",
      tags,
      summary: "Delete an API key; it stops working at once",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        204: { description: "Deleted" },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await deleteApiKey(c.var.db, id))) throw new ApiError("not_found", `No API key ${id}.`);
      return c.body(null, 204);
    },
  )
  .openapi(
    scopedRoute("secret", {
      operationId: "createIdentityToken",
      method: "post",
      path: "/tokens",
      tags: ["Keys"],
      summary: "Mint a short-lived signed token (never more scopes than the minting key)",
      request: { body: jsonBody(TokenBody) },
      responses: {
        201: {
          description: "The token",
          content: {
            "application/json": {
              schema: z.object({
                token: z.string(),
                tokenId: z.string(),
                scopes: z.array(z.string()),
                identity: z.object({ namespace: z.string(), id: z.string() }).nullable(),
                expiresAt: z.string(),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => c.json(await mintToken(c, c.var.principal, c.req.valid("json")), 201),
  );

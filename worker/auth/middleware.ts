import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { grants, isScope, type Scope } from "../../shared/scopes";
import { findApiKeyByHash } from "../db/queries/keys";
import type { AppEnv, Principal } from "../env";
import { ApiError } from "../lib/errors";
import { hashKey } from "./keys";

/**
 * What a route needs. `anonymous` routes (the OpenAPI document) need no key at all.
 * Public-key routes are added with the personalization work.
 */
export type RouteAccess = Scope | "anonymous";

const ACCESS = Symbol.for("tessera.routeAccess");

type TaggedMiddleware = MiddlewareHandler<AppEnv> & { [ACCESS]?: RouteAccess };

/**
 * Declares the scope a route needs. Every `/v1` route lists one in its `middleware`.
 * The check itself happens once, in `authenticate`, which refuses any `/v1` route that
 * declares none — a forgotten scope fails closed, not open.
 */
export function requireScope(access: RouteAccess): MiddlewareHandler<AppEnv> {
  const marker: TaggedMiddleware = async (_c, next) => {
    await next();
  };
  marker[ACCESS] = access;
  return marker;
}

/** The access a matched route declared, if any. Exported for the route-coverage test. */
export function declaredAccess(handler: unknown): RouteAccess | undefined {
  return (handler as TaggedMiddleware | undefined)?.[ACCESS];
}

function accessOfRequest(c: Context<AppEnv>): { matched: boolean; access?: RouteAccess } {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  if (routes.length === 0) return { matched: false };
  for (const route of routes) {
    const access = declaredAccess(route.handler);
    if (access) return { matched: true, access };
  }
  return { matched: true };
}

function bearerToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new ApiError("unauthorized", "The Authorization header must be `Bearer <key>`.");
  }
  return match[1];
}

async function resolvePrincipal(c: Context<AppEnv>, presented: string): Promise<Principal | undefined> {
  const hash = await hashKey(presented);
  const adminKey = c.env.TESSERA_ADMIN_KEY;
  if (adminKey && hash === (await hashKey(adminKey))) {
    return { keyId: "admin", kind: "secret", scopes: ["admin"], origins: [] };
  }
  const row = await findApiKeyByHash(c.var.db, hash);
  if (!row) return undefined;
  return {
    keyId: row.id,
    kind: row.kind === "public" ? "public" : "secret",
    scopes: row.scopes.filter(isScope),
    origins: row.origins,
  };
}

/**
 * Authenticates `/v1` requests and enforces the scope the matched route declares.
 * Unknown paths fall through to the 404 handler (after authentication, so an
 * anonymous caller cannot map the API by probing).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const { matched, access } = accessOfRequest(c);
  if (matched && access === undefined) {
    throw new ApiError("forbidden", "This route declares no scope and cannot be called.");
  }
  if (access === "anonymous") return next();

  const presented = bearerToken(c);
  if (!presented) {
    throw new ApiError("unauthorized", "An API key is required: send `Authorization: Bearer <key>`.");
  }
  const principal = await resolvePrincipal(c, presented);
  if (!principal) throw new ApiError("unauthorized", "The API key is not valid.");
  if (principal.kind === "public") {
    throw new ApiError("forbidden", "A public key can only call /v1/context and /v1/collect.");
  }
  if (access && !grants(principal.scopes, access)) {
    throw new ApiError("forbidden", `This route needs the \`${access}\` scope.`);
  }
  c.set("principal", principal);
  await next();
});

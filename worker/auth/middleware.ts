import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { grants, isScope, type Scope } from "../../shared/scopes";
import {
  findApiKeyByHash,
  findApiKeyById,
  KEY_USE_RESOLUTION_MS,
  touchApiKey,
} from "../db/queries/keys";
import type { AppEnv, Principal } from "../env";
import { readBodyText } from "../lib/body";
import { ApiError } from "../lib/errors";
import { hashKey } from "./keys";
import { looksLikeJwt, verifyApiToken } from "./tokens";

/**
 * What a route needs:
 * - a scope (`ingest`, `profiles:read`, …, `admin`);
 * - `public`: a public key (`pk_…`) used from one of its origins (context, collect);
 * - `secret`: any secret key, whatever its scopes (minting tokens: the token is capped by them);
 * - `tracking`: the tracking API (SPEC §2): a secret key with `ingest`, or a public key from
 *   one of its origins; sent as Bearer, as Basic (the key as user name, as Segment's SDKs
 *   do), as `writeKey` in the JSON body, or in the settings path;
 * - `anonymous`: nothing (the OpenAPI document).
 */
export type RouteAccess = Scope | "public" | "secret" | "tracking" | "anonymous";

const ACCESS = Symbol.for("tessera.routeAccess");

export interface AccessOptions {
  /**
   * A token restricted to one identity (`POST /v1/tokens` with `identity`) may call this
   * GET route; the handler must check that what it reads is that identity's profile
   * (see assertMayReadProfile). Every other route refuses such tokens.
   */
  identityReadable?: boolean;
}
interface Declaration extends Required<AccessOptions> {
  access: RouteAccess;
}
type TaggedMiddleware = MiddlewareHandler<AppEnv> & { [ACCESS]?: Declaration };

/**
 * Declares the access a route needs. Every `/v1` route lists one in its `middleware`.
 * The check itself happens once, in `authenticate`, which refuses any `/v1` route that
 * declares none — a forgotten scope fails closed, not open.
 */
export function requireScope(
  access: RouteAccess,
  options: AccessOptions = {},
): MiddlewareHandler<AppEnv> {
  const marker: TaggedMiddleware = async (_c, next) => {
    await next();
  };
  marker[ACCESS] = { access, identityReadable: options.identityReadable === true };
  return marker;
}

/** The access a matched route declared, if any. Exported for the route-coverage test. */
export function declaredAccess(handler: unknown): RouteAccess | undefined {
  return (handler as TaggedMiddleware | undefined)?.[ACCESS]?.access;
}

function declarationOfRequest(c: Context<AppEnv>): { matched: boolean; declaration?: Declaration } {
  const routes = matchedRoutes(c).filter((r) => r.method !== "ALL");
  if (routes.length === 0) return { matched: false };
  for (const route of routes) {
    const declaration = (route.handler as TaggedMiddleware)[ACCESS];
    if (declaration) return { matched: true, declaration };
  }
  return { matched: true };
}

function bearerToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new ApiError("unauthorized", "The Authorization header must be `Bearer <key>`.");
  return match[1];
}

const SETTINGS_PATH = /^\/v1\/projects\/([^/]+)\/settings$/;

/**
 * How tracking SDKs present their write key: `Basic base64("<key>:")`, Bearer, the
 * settings path (`/v1/projects/<key>/settings`), or `writeKey` in the JSON body.
 */
async function trackingKey(c: Context<AppEnv>): Promise<string | undefined> {
  const header = c.req.header("authorization");
  const basic = header ? /^Basic\s+(\S+)\s*$/i.exec(header) : null;
  if (basic) {
    let decoded: string;
    try {
      decoded = atob(basic[1]!);
    } catch {
      throw new ApiError("unauthorized", "The Basic credentials are not valid base64.");
    }
    const user = decoded.split(":")[0];
    return user || undefined;
  }
  if (header) return bearerToken(c);
  const inPath = SETTINGS_PATH.exec(c.req.path)?.[1];
  if (inPath) {
    const key = decodeURIComponent(inPath);
    // A URL ends up in access logs and browser history: only a key that may live in a page goes there.
    if (!key.startsWith("pk_"))
      throw new ApiError(
        "unauthorized",
        "Only a public key (pk_…) may be sent in a URL; a secret key sent there should be rotated.",
      );
    return key;
  }
  if (c.req.method !== "POST") return undefined;
  try {
    const body = JSON.parse(await readBodyText(c)) as { writeKey?: unknown };
    return typeof body?.writeKey === "string" && body.writeKey ? body.writeKey : undefined;
  } catch {
    return undefined; // not JSON: the route answers 400 once a key is known
  }
}

async function resolveKey(c: Context<AppEnv>, presented: string): Promise<Principal | undefined> {
  if (looksLikeJwt(presented)) {
    const claims = await verifyApiToken(c.env, presented);
    if (!claims) return undefined;
    // A token dies with its minter: deleting the key revokes every token it minted.
    if (claims.sub !== "admin" && !(await findApiKeyById(c.var.db, claims.sub))) return undefined;
    return {
      keyId: claims.sub,
      kind: "token",
      scopes: claims.scp,
      origins: [],
      tokenId: claims.jti,
      identity: claims.idn,
    };
  }
  const hash = await hashKey(presented);
  const adminKey = c.env.TESSERA_ADMIN_KEY;
  if (adminKey && hash === (await adminKeyHash(adminKey))) {
    return { keyId: "admin", kind: "secret", scopes: ["admin"], origins: [] };
  }
  const row = await findApiKeyByHash(c.var.db, hash);
  if (!row) return undefined;
  const now = Date.now();
  if (row.lastUsedAt == null || row.lastUsedAt < now - KEY_USE_RESOLUTION_MS) {
    // Bookkeeping must never fail the call it describes.
    await touchApiKey(c.var.db, row.id, now).catch((err) =>
      console.error("could not record key use:", err instanceof Error ? err.message : err),
    );
  }
  return {
    keyId: row.id,
    kind: row.kind === "public" ? "public" : "secret",
    scopes: row.scopes.filter(isScope),
    origins: row.origins,
    ...(row.tracking ? { tracking: row.tracking } : {}),
  };
}

/** The admin secret's hash, computed once per isolate (not on every request). */
let adminHash: { key: string; hash: Promise<string> } | undefined;
function adminKeyHash(key: string): Promise<string> {
  if (adminHash?.key !== key) adminHash = { key, hash: hashKey(key) };
  return adminHash.hash;
}

/** The page's origin: the Origin header, or (same-origin GETs omit it) the Referer's. */
function requestOrigin(c: Context<AppEnv>): string | undefined {
  const origin = c.req.header("origin");
  if (origin && origin !== "null") return origin;
  const referer = c.req.header("referer");
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Authenticates `/v1` requests and enforces the access the matched route declares.
 * Unknown paths fall through to the 404 handler (after authentication, so an anonymous
 * caller cannot map the API by probing).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const { matched, declaration } = declarationOfRequest(c);
  const access = declaration?.access;
  if (matched && access === undefined) {
    throw new ApiError("forbidden", "This route declares no scope and cannot be called.");
  }
  if (access === "anonymous") return next();

  const queryKey = access === "tracking" ? undefined : c.req.query("key");
  const presented = access === "tracking" ? await trackingKey(c) : (bearerToken(c) ?? queryKey);
  if (!presented) {
    throw new ApiError(
      "unauthorized",
      "An API key is required: send `Authorization: Bearer <key>`.",
    );
  }
  if (queryKey !== undefined && (!queryKey.startsWith("pk_") || access !== "public")) {
    throw new ApiError(
      "unauthorized",
      "Only public keys may be sent as ?key=, and only to /v1/context and /v1/collect.",
    );
  }
  const principal = await resolveKey(c, presented);
  if (!principal)
    throw new ApiError("unauthorized", "The API key or token is not valid (or has expired).");

  if (access === "public" || (access === "tracking" && principal.kind === "public")) {
    if (principal.kind !== "public")
      throw new ApiError("forbidden", "This endpoint takes a public key (pk_…).");
    const origin = requestOrigin(c);
    if (!origin || !principal.origins.includes(origin)) {
      throw new ApiError(
        "origin_not_allowed",
        `This public key may only be used from its origins${origin ? `, not ${origin}` : ""}.`,
      );
    }
  } else if (access === "tracking") {
    if (!grants(principal.scopes, "ingest"))
      throw new ApiError(
        "forbidden",
        "The tracking API needs a key with the `ingest` scope (or a public key).",
      );
  } else if (principal.kind === "public") {
    throw new ApiError(
      "forbidden",
      "A public key can only call /v1/context, /v1/collect and the tracking API.",
    );
  } else if (access === "secret") {
    if (principal.kind !== "secret")
      throw new ApiError("forbidden", "Only a secret key can do this.");
  } else if (access && !grants(principal.scopes, access)) {
    throw new ApiError("forbidden", `This route needs the \`${access}\` scope.`);
  }
  if (principal.identity && (c.req.method !== "GET" || !declaration?.identityReadable)) {
    throw new ApiError("forbidden", "This token may only read the profile of its identity.");
  }
  c.set("principal", principal);
  await next();
});

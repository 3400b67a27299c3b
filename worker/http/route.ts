import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { type AccessOptions, type RouteAccess, requireScope } from "../auth/middleware";
import { errorResponses } from "../lib/openapi";
import { strictQuery } from "./strict-query";

/**
 * `createRoute` with the access the route needs. The scope is enforced by the auth
 * middleware and printed in the OpenAPI document (`x-tessera-scope`, `security`);
 * `identityReadable` routes also admit a token restricted to one identity.
 */
export function scopedRoute<
  P extends string,
  R extends Omit<RouteConfig, "path"> & { path: P; operationId: string },
>(access: RouteAccess, config: R, options: AccessOptions = {}) {
  const routeConfig = withReadConsistency(config);
  return createRoute({
    ...routeConfig,
    // What the global middleware can answer for any such route, so the document lists
    // every status the server sends: 401/403 (auth), 400 (invalid parameters or body),
    // 413/415 (body size and type), 500.
    responses: { ...commonErrors(access, routeConfig), ...config.responses },
    middleware: [
      requireScope(access, options),
      strictQuery(queryNames(routeConfig), queryPatterns(config)),
      ...toArray(config.middleware),
    ],
    security: access === "anonymous" ? [] : [{ bearer: [] }],
    "x-tessera-scope": access,
    ...(options.identityReadable ? { "x-tessera-identity-token": true } : {}),
  } as unknown as ReadConsistent<R>);
}

/**
 * The config's type with `consistency` in the query of a GET that declares a query, as the
 * route answers it at run time, so the typed client can send it. (A GET without query
 * parameters takes it too; declaring it there would make every such call pass `query: {}`.)
 */
type ReadConsistent<R> = R extends {
  method: "get";
  request: infer Q extends { query: z.ZodObject };
}
  ? Omit<R, "request"> & {
      request: Omit<Q, "query"> & {
        query: z.ZodObject<
          Q["query"]["shape"] & { consistency: typeof EVENTUAL },
          Q["query"] extends z.ZodObject<z.ZodRawShape, infer Config> ? Config : never
        >;
      };
    }
  : R;

/**
 * Every read takes `?consistency=eventual` (SPEC §6): it may then be answered by a D1 read
 * replica near the caller, a few seconds behind (../routes/read-session.ts decides).
 */
const EVENTUAL = z.enum(["eventual"]).optional().meta({
  description:
    "`eventual`: may be answered by a read replica near the caller, at most a few seconds behind (default: strongly consistent).",
});

function withReadConsistency<R extends Omit<RouteConfig, "path">>(config: R): R {
  if (config.method !== "get") return config;
  const query = config.request?.query as z.ZodObject | undefined;
  return {
    ...config,
    request: {
      ...config.request,
      query: query ? query.extend({ consistency: EVENTUAL }) : z.object({ consistency: EVENTUAL }),
    },
  };
}

function commonErrors(access: RouteAccess, config: Omit<RouteConfig, "path">) {
  const statuses: number[] = [500];
  if (access !== "anonymous") statuses.push(401, 403);
  const request = config.request;
  if (request?.query || request?.params || request?.body) statuses.push(400);
  if (request?.body) statuses.push(413, 415);
  return errorResponses(...statuses);
}

/** The query parameter names a route declares (its zod query object's keys). */
function queryNames(config: Omit<RouteConfig, "path">): string[] {
  const query = config.request?.query as { shape?: Record<string, unknown> } | undefined;
  return query?.shape ? Object.keys(query.shape) : [];
}

/** Documented name patterns (`x-tessera-pattern-parameters` in the query). */
function queryPatterns(config: Omit<RouteConfig, "path">): RegExp[] {
  const patterns =
    (config as { "x-tessera-pattern-parameters"?: { in: string; pattern: string }[] })[
      "x-tessera-pattern-parameters"
    ] ?? [];
  return patterns.filter((p) => p.in === "query").map((p) => new RegExp(p.pattern));
}

function toArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

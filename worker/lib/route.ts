import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import { requireScope, type RouteAccess } from "../auth/middleware";

/**
 * `createRoute` with the access the route needs. The scope is enforced by the auth
 * middleware and printed in the OpenAPI document (`x-tessera-scope`, `security`).
 */
export function scopedRoute<P extends string, R extends Omit<RouteConfig, "path"> & { path: P }>(
  access: RouteAccess,
  config: R,
) {
  return createRoute({
    ...config,
    middleware: [requireScope(access), ...toArray(config.middleware)],
    security: access === "anonymous" ? [] : [{ bearer: [] }],
    "x-tessera-scope": access,
  } as R);
}

function toArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

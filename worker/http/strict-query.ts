/**
 * Query parameters a route does not define are errors (SPEC §2 "Unknown fields are
 * errors"): a caller who sends `?dryRun=true` to a route without it must not get a real
 * write, and `?limt=5` must not quietly mean the default. Every `/v1` route gets this check
 * from its declaration (./route.ts): the names in its query schema, plus the patterns it
 * documents (`attr.<path>` on the profile search).
 */
import type { MiddlewareHandler } from "hono";
import { unknownNameMessage } from "../../shared/suggest";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

export function strictQuery(
  declared: readonly string[],
  patterns: readonly RegExp[],
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const unknown = [...new Set(new URL(c.req.url).searchParams.keys())].filter(
      (name) => !declared.includes(name) && !patterns.some((p) => p.test(name)),
    );
    if (unknown.length > 0) {
      const details = unknown.map((name) => ({
        path: `query.${name}`,
        message: unknownNameMessage("query parameter", name, declared),
      }));
      const accepted =
        declared.length > 0
          ? `; this route takes ${declared.map((d) => `\`${d}\``).join(", ")}`
          : "; this route takes none";
      throw new ApiError(
        "invalid_request",
        `${details.map((d) => d.message).join(", ")}${accepted}`,
        { details },
      );
    }
    await next();
  };
}

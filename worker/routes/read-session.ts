/**
 * Which D1 session a request reads through (SPEC §6): the graph's truth is the writer's,
 * and D1 holds its projection, so this decides how fresh a read is.
 *
 * - A request that presents a `Tessera-Consistency` token (header, or the widget's
 *   `tessera_consistency` cookie) reads through a session at least at the token's D1
 *   bookmark — a read replica that caught up may serve it. A token without a bookmark
 *   (its write was answered before D1 applied it) waits for the projection, then reads the
 *   primary.
 * - Without a token, `GET /v1/context` and reads with `?consistency=eventual` may be served
 *   by any replica ("first-unconstrained"); every other request reads the primary, which
 *   holds every answered write.
 */
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { type ConsistencyToken, parseToken } from "../lib/consistency";
import { ApiError } from "../lib/errors";
import { projectedUpTo } from "../writer/client";

export function readSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("tessera-consistency");
    let token: ConsistencyToken | undefined;
    if (header !== undefined) {
      token = parseToken(header);
      if (!token) {
        const message =
          "Tessera-Consistency: not a token (send back the value of a write answer's Tessera-Consistency header)";
        throw new ApiError("invalid_request", message, {
          details: [{ path: "header.Tessera-Consistency", message }],
        });
      }
    } else {
      const cookie = getCookie(c, "tessera_consistency");
      token = cookie !== undefined ? parseToken(cookie) : undefined; // a stale cookie is ignored, not an error
    }

    let constraint: string;
    if (token?.bookmark) constraint = token.bookmark;
    else if (
      !token &&
      c.req.method === "GET" &&
      (c.req.path === "/v1/context" ||
        new URL(c.req.url).searchParams.get("consistency") === "eventual")
    )
      constraint = "first-unconstrained";
    else constraint = "first-primary";
    if (token && !token.bookmark && token.seq > 0) await projectedUpTo(c.env, token);
    c.set("db", createDb(c.env.DB.withSession(constraint) as unknown as D1Database));
    await next();
  };
}

/** Operating the write path (SPEC §6): the owner shards and the coordinator. */
import { z } from "@hono/zod-openapi";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { errorResponses } from "../lib/openapi";
import { shardsFigures } from "../writer/client";

const Shard = z.object({
  id: z.number(),
  buckets: z.number().meta({ description: "Profile buckets the shard owns (of 16,384)" }),
  profiles: z.number(),
  identities: z.number(),
  bytes: z.number().meta({ description: "Size of the shard's own SQLite" }),
  seq: z.number().meta({ description: "The shard's last commit" }),
  projectionLag: z.number().meta({
    description:
      "Milliseconds since the oldest commit the D1 projection does not hold yet (0: current)",
  }),
  store: z.enum(["local", "d1", "moving"]).meta({
    description:
      "Where the shard's graph is: its own SQLite, D1 (kept there), or moving from D1 into its own SQLite",
  }),
  rowsWritten: z.object({ shard: z.number(), projection: z.number() }).meta({
    description:
      "Rows (table and index entries) written since the shard started: by its own SQLite, and by D1 applying its commits",
  }),
  move: z
    .object({ phase: z.string(), pass: z.number(), copied: z.number() })
    .optional()
    .meta({ description: "While moving: copy or verify, the verify pass, rows copied" }),
});

export const adminRouter = createRouter().openapi(
  scopedRoute("admin", {
    operationId: "listShards",
    method: "get",
    path: "/admin/shards",
    tags: ["Admin"],
    summary:
      "The owner shards (profiles, identities, size, last commit, projection lag) and the coordinator",
    responses: {
      200: {
        description: "Shards",
        content: {
          "application/json": {
            schema: z.object({
              shards: z.array(Shard),
              coordinator: z.object({
                inFlight: z.number(),
                committed: z.number(),
                busyMs: z
                  .number()
                  .meta({ description: "Time spent running transactions since it started" }),
              }),
            }),
          },
        },
      },
      ...errorResponses(401, 403),
    },
  }),
  async (c) => {
    return c.json(await shardsFigures(c.env), 200);
  },
);

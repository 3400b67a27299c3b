import { z } from "@hono/zod-openapi";
import { readConfig } from "../config/cache";
import { profileMetrics } from "../db/queries/metrics";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { errorResponses } from "../lib/openapi";

const MetricsSchema = z
  .object({
    total: z.number(),
    added: z.object({ last7d: z.number(), last30d: z.number() }),
    byNamespace: z.record(z.string(), z.number()),
    identityOverlap: z.array(
      z.object({ namespaces: z.tuple([z.string(), z.string()]), profiles: z.number() }),
    ),
    graphSizes: z.array(z.object({ identities: z.string(), profiles: z.number() })),
    merges: z.object({ last7d: z.number(), last30d: z.number() }),
    computedAt: z.string(),
  })
  .meta({ id: "ProfileMetrics" });

export const metricsRouter = createRouter().openapi(
  scopedRoute("profiles:read", {
    operationId: "getProfileMetrics",
    method: "get",
    path: "/metrics/profiles",
    tags: ["Reporting"],
    summary:
      "The profile dashboard: totals, growth, namespaces, overlap, graph sizes, merges (cached up to 60 s)",
    responses: {
      200: { description: "Metrics", content: { "application/json": { schema: MetricsSchema } } },
      ...errorResponses(401, 403),
    },
  }),
  async (c) => {
    const metrics = await readConfig("profileMetrics", async () => ({
      ...(await profileMetrics(c.var.db.$client)),
      computedAt: new Date().toISOString(),
    }));
    return c.json(metrics, 200);
  },
);

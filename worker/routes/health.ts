import { createRoute, z } from "@hono/zod-openapi";
import { schemaVersion } from "../db/queries/health";
import { createRouter } from "../http/router";

const HealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    schemaVersion: z.number().int(),
    latestMigration: z.string().nullable(),
    time: z.string(),
  })
  .meta({ id: "Health" });

export const healthRouter = createRouter().openapi(
  createRoute({
    method: "get",
    operationId: "getHealth",
    security: [],
    path: "/health",
    tags: ["Service"],
    summary: "Liveness, with the applied D1 schema version",
    responses: {
      200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
      503: {
        description: "D1 unreachable or not migrated",
        content: { "application/json": { schema: HealthSchema } },
      },
    },
  }),
  async (c) => {
    const time = new Date().toISOString();
    try {
      const { version, latest } = await schemaVersion(c.var.db);
      return c.json(
        { status: "ok" as const, schemaVersion: version, latestMigration: latest, time },
        200,
      );
    } catch (err) {
      console.error("health: D1 check failed", err instanceof Error ? err.message : err);
      return c.json(
        { status: "unavailable" as const, schemaVersion: 0, latestMigration: null, time },
        503,
      );
    }
  },
);

/** The audit log of reads and changes of personal data. */
import { z } from "@hono/zod-openapi";
import { listOf, pageLimit } from "../../shared/schemas/common";
import { listAudit } from "../db/queries/audit";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { decodeCursor, pageOf } from "../lib/cursor";
import { errorResponses } from "../lib/openapi";
import { toIso } from "../lib/time";

export const auditRouter = createRouter().openapi(
  scopedRoute("admin", {
    operationId: "listAuditEntries",
    method: "get",
    path: "/audit",
    tags: ["Privacy"],
    summary: "Who read which profile, when, which fields — newest first",
    request: { query: z.object({ cursor: z.string().optional(), limit: pageLimit(100, 1000) }) },
    responses: {
      200: {
        description: "Audit entries",
        content: {
          "application/json": {
            schema: listOf(
              z.object({
                id: z.number(),
                at: z.string(),
                keyId: z.string(),
                action: z.string(),
                profileId: z.string().nullable(),
                fields: z.array(z.string()),
              }),
            ),
          },
        },
      },
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const rows = await listAudit(c.var.db, limit + 1, decodeCursor(cursor, { n: "number" })?.n);
    const present = (r: (typeof rows)[number]) => ({
      id: r.id,
      at: toIso(r.at),
      keyId: r.keyId,
      action: r.action,
      profileId: r.profileId ?? null,
      fields: r.fields,
    });
    return c.json(
      pageOf(rows, limit, present, (last) => ({ n: last.id })),
      200,
    );
  },
);

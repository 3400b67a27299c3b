/** Settings: the visitor-context allow-list, browser event types, and retention. */
import { z } from "@hono/zod-openapi";
import { RetentionBody } from "../../shared/schemas/config";
import { CollectSettings, PersonalizationSettings } from "../../shared/schemas/personalization";
import { saveSetting } from "../config/service";
import { getDestination } from "../db/queries/exports";
import { getSetting } from "../db/queries/settings";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { RETENTION_SETTING, retentionSettings } from "../maintenance/retention";

const RetentionSchema = z
  .object({
    pseudonymousProfileDays: z.number().nullable(),
    archiveDestination: z.string().nullable(),
  })
  .meta({ id: "Retention" });

export const settingsRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "putPersonalizationSettings",
      method: "put",
      path: "/settings/personalization",
      tags: ["Personalization"],
      summary: "The allow-list of attributes a visitor's own context may contain",
      request: { body: jsonBody(PersonalizationSettings) },
      responses: {
        200: {
          description: "Stored",
          content: { "application/json": { schema: PersonalizationSettings } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      await saveSetting(c, "personalization", body);
      return c.json(body, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getPersonalizationSettings",
      method: "get",
      path: "/settings/personalization",
      tags: ["Personalization"],
      summary: "The attribute allow-list",
      responses: {
        200: {
          description: "Settings",
          content: { "application/json": { schema: PersonalizationSettings } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json(
        { attributes: (await getSetting(c.var.db, "personalization"))?.attributes ?? [] },
        200,
      ),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "putCollectSettings",
      method: "put",
      path: "/settings/collect",
      tags: ["Personalization"],
      summary: "Event types browsers may send to /v1/collect",
      request: { body: jsonBody(CollectSettings) },
      responses: {
        200: {
          description: "Stored",
          content: { "application/json": { schema: CollectSettings } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      await saveSetting(c, "collect", body);
      return c.json(body, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "putRetentionSettings",
      method: "put",
      path: "/settings/retention",
      tags: ["Retention"],
      summary: "Pseudonymous profile expiry and the archive destination for expired events",
      request: { body: jsonBody(RetentionBody) },
      responses: {
        200: {
          description: "The stored settings",
          content: { "application/json": { schema: RetentionSchema } },
        },
        ...errorResponses(400),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const current = await retentionSettings(c.var.db);
      const next = {
        pseudonymousProfileDays:
          body.pseudonymousProfileDays === undefined
            ? (current.pseudonymousProfileDays ?? null)
            : body.pseudonymousProfileDays,
        archiveDestination:
          body.archiveDestination === undefined
            ? (current.archiveDestination ?? null)
            : body.archiveDestination,
      };
      if (next.archiveDestination) {
        const destination = await getDestination(c.var.db, next.archiveDestination);
        if (!destination || destination.type === "webhook") {
          throw new ApiError(
            "invalid_request",
            `no r2, s3 or azure destination "${next.archiveDestination}"`,
            {
              details: [
                {
                  path: "archiveDestination",
                  message: "create it with PUT /v1/destinations/:name first",
                },
              ],
            },
          );
        }
      }
      await saveSetting(c, RETENTION_SETTING, next);
      return c.json(next, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getRetentionSettings",
      method: "get",
      path: "/settings/retention",
      tags: ["Retention"],
      summary: "The retention settings",
      responses: {
        200: {
          description: "Settings",
          content: { "application/json": { schema: RetentionSchema } },
        },
      },
    }),
    async (c) => {
      const s = await retentionSettings(c.var.db);
      return c.json(
        {
          pseudonymousProfileDays: s.pseudonymousProfileDays ?? null,
          archiveDestination: s.archiveDestination ?? null,
        },
        200,
      );
    },
  );

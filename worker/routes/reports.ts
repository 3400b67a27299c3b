import { z } from "@hono/zod-openapi";
import {
  ATTRIBUTION_DEFINITIONS,
  MESSAGE_METRICS,
  runJourneyAttribution,
} from "../analytics/journeys";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ApiError, orFail } from "../lib/errors";
import { errorResponses } from "../lib/openapi";
import { eventsReport } from "../reports/events";
import { messageReport } from "../reports/message-report";
import type { GroupBy } from "../reports/messages";
import { checkTimeZone, reportRange } from "../reports/time";
import { durationMs } from "../segments/rules";

const MessageRowSchema = z.object({
  key: z.string(),
  sent: z.number(),
  retries: z.number(),
  delivered: z.number(),
  bounced: z.number(),
  opened: z.number(),
  clicked: z.number(),
  complete: z.boolean(),
});

const DEFINITIONS = {
  ...MESSAGE_METRICS,
  complete: "false when the bucket's time span is not entirely in the past and inside the range",
};

export const reportsRouter = createRouter()
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "getMessagesReport",
      method: "get",
      path: "/reports/messages",
      tags: ["Reporting"],
      summary: "Message delivery report from message.* events (definitions in the answer)",
      request: {
        query: z.object({
          from: z.string().optional().meta({ example: "2026-11-01" }),
          to: z.string().optional().meta({ example: "2026-11-24" }),
          tz: z.string().optional().meta({ example: "Europe/Amsterdam" }),
          groupBy: z.enum(["day", "week", "month", "channel", "journey"]).optional(),
        }),
      },
      responses: {
        200: {
          description: "Buckets and totals",
          content: {
            "application/json": {
              schema: z.object({
                from: z.string(),
                to: z.string(),
                tz: z.string(),
                groupBy: z.string(),
                items: z.array(MessageRowSchema),
                totals: MessageRowSchema.omit({ key: true }),
                definitions: z.record(z.string(), z.string()),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const tz = orFail(checkTimeZone(q.tz ?? "UTC"));
      const groupBy: GroupBy = q.groupBy ?? "day";
      const now = Date.now();
      const range = orFail(reportRange(q.from, q.to, tz, now));
      const { items, totals } = await messageReport(c.var.db.$client, range, groupBy, tz, now);
      return c.json(
        {
          from: new Date(range.start).toISOString(),
          to: new Date(range.end).toISOString(),
          tz,
          groupBy,
          items,
          totals,
          definitions: DEFINITIONS,
        },
        200,
      );
    },
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "getEventsReport",
      method: "get",
      path: "/reports/events",
      tags: ["Reporting"],
      summary:
        "A small data view over any events: counts or distinct profiles per day, type or data.<path>",
      request: {
        query: z.object({
          type: z.string().optional(),
          from: z.string().optional(),
          to: z.string().optional(),
          tz: z.string().optional(),
          groupBy: z
            .string()
            .regex(
              /^(day|type|data\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$/,
              "day, type or data.<path>",
            )
            .optional(),
          metric: z.enum(["count", "profiles"]).optional(),
        }),
      },
      responses: {
        200: {
          description: "Buckets",
          content: {
            "application/json": {
              schema: z.object({
                groupBy: z.string(),
                metric: z.string(),
                items: z.array(
                  z.object({ key: z.string(), value: z.number(), complete: z.boolean() }),
                ),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 413),
      },
    }),
    async (c) => c.json(await eventsReport(c.var.db.$client, c.req.valid("query")), 200),
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "getJourneysReport",
      method: "get",
      path: "/reports/journeys",
      tags: ["Journey analytics"],
      summary:
        "Per journey: message metrics plus conversions and value attributed to its messages (first, last or linear)",
      request: {
        query: z.object({
          from: z.string().optional().meta({ example: "2026-11-01" }),
          to: z.string().optional().meta({ example: "2026-11-29" }),
          tz: z.string().optional().meta({ example: "UTC" }),
          conversion: z
            .string()
            .regex(/^[A-Za-z0-9_.:-]{1,100}$/, "an event type")
            .meta({
              description: "The event type that counts as a conversion.",
              example: "purchase",
            }),
          window: z.string().default("P7D").meta({
            description: "ISO-8601 lookback before each conversion (at most P90D).",
            example: "P7D",
          }),
          model: z.enum(["first", "last", "linear"]).default("last"),
          value: z
            .string()
            .regex(/^data\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "data.<path>")
            .optional()
            .meta({
              description: "The conversion's value: a number in its data.",
              example: "data.amount",
            }),
        }),
      },
      responses: {
        200: {
          description: "Journeys with attributed conversions; definitions in the answer",
          content: {
            "application/json": {
              schema: z.object({
                from: z.string(),
                to: z.string(),
                tz: z.string(),
                conversion: z.string(),
                window: z.string(),
                model: z.string(),
                items: z.array(
                  z.object({
                    journey: z.string(),
                    sent: z.number(),
                    retries: z.number(),
                    delivered: z.number(),
                    bounced: z.number(),
                    opened: z.number(),
                    clicked: z.number(),
                    conversions: z.number(),
                    conversionValue: z.number(),
                  }),
                ),
                totals: z.record(z.string(), z.number()),
                complete: z.boolean(),
                definitions: z.record(z.string(), z.string()),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const tz = orFail(checkTimeZone(q.tz ?? "UTC"));
      const windowMs = durationMs(q.window);
      if (!windowMs || windowMs > 90 * 86_400_000)
        throw new ApiError("invalid_request", "window is an ISO-8601 duration of at most 90 days", {
          details: [{ path: "window", message: `"${q.window}": use e.g. P7D or PT12H` }],
        });
      const now = Date.now();
      const range = orFail(reportRange(q.from, q.to, tz, now));
      const result = orFail(
        await runJourneyAttribution(c.var.db.$client, {
          range,
          tz,
          now,
          conversion: q.conversion,
          windowMs,
          model: q.model,
          valuePath: q.value?.slice(5),
        }),
      );
      return c.json(
        {
          from: new Date(range.start).toISOString(),
          to: new Date(range.end).toISOString(),
          tz,
          conversion: q.conversion,
          window: q.window,
          model: q.model,
          ...result,
          definitions: ATTRIBUTION_DEFINITIONS,
        },
        200,
      );
    },
  );

import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { formatPath } from "../../shared/errors";
import { DEVICE_ID_PATTERN } from "../../shared/identity/normalize";
import { CollectBody, ContextSchema } from "../../shared/schemas/personalization";
import { parseConsentQuery } from "../consent/service";
import type { AppEnv } from "../env";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { parseJsonText, readBodyText } from "../lib/body";
import { ApiError } from "../lib/errors";
import { errorResponses } from "../lib/openapi";
import { collectEvents } from "../personalization/collect";
import { visitorContext } from "../personalization/context";
import { rateLimitBrowser } from "../personalization/rate-limit";

const COLLECT_BODY_LIMIT = 64 * 1024;

/** Global Privacy Control: the browser's `Sec-GPC: 1`, or the page's `navigator.globalPrivacyControl` sent as `gpc=1`. */
const gpcOf = (c: Context<AppEnv>) => c.req.header("sec-gpc") === "1" || c.req.query("gpc") === "1";

function deviceOf(c: Context<AppEnv>): string {
  const device = c.req.header("x-tessera-device") ?? c.req.query("device");
  if (!device || !DEVICE_ID_PATTERN.test(device)) {
    throw new ApiError(
      "invalid_identity",
      "a device id (X-Tessera-Device header or ?device=) of 16–64 characters of [A-Za-z0-9_-] is required",
      {
        details: [{ path: "device", message: "16–64 of [A-Za-z0-9_-]" }],
      },
    );
  }
  return device;
}

const ingestShape = z.object({
  accepted: z.number(),
  duplicates: z.number(),
  rejected: z.array(z.object({ index: z.number(), error: z.unknown() })),
  ignored: z
    .number()
    .optional()
    .meta({ description: "Events stored nothing of: the visitor denied `analytics`" }),
  reason: z.literal("consent").optional(),
});

export const personalizationRouter = createRouter()
  .openapi(
    scopedRoute("public", {
      operationId: "getPersonalizationContext",
      method: "get",
      path: "/context",
      tags: ["Personalization"],
      summary: "The visitor's context: public segments and allow-listed attributes (public key)",
      request: {
        query: z.object({
          device: z.string().optional(),
          identityToken: z.string().optional().meta({
            description: "HS256 JWT signed with the site secret; sub is an identity like crm:123",
          }),
          key: z.string().optional().meta({ description: "The public key, for simple GETs" }),
          consent: z.string().optional().meta({
            description:
              "The visitor's choices, recorded first: `analytics:granted,marketing:denied`",
            example: "personalization:granted",
          }),
          gpc: z
            .enum(["1"])
            .optional()
            .meta({ description: "The page's `navigator.globalPrivacyControl` (as `Sec-GPC: 1`)" }),
        }),
      },
      responses: {
        200: {
          description: "The context",
          content: { "application/json": { schema: ContextSchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const device = deviceOf(c);
      const query = c.req.valid("query");
      const token = query.identityToken ?? c.req.header("x-tessera-identity-token");
      const sent = parseConsentQuery(query.consent);
      if (query.consent && !sent)
        throw new ApiError(
          "invalid_request",
          "consent takes purpose:granted|denied pairs, comma-separated",
          { details: [{ path: "consent", message: "like analytics:granted,marketing:denied" }] },
        );
      const body = await visitorContext(c.env, c.var.db, c.var.principal.keyId, device, token, {
        sent,
        gpc: gpcOf(c),
      });
      c.header("Cache-Control", "private, no-store");
      c.header("Vary", "Origin");
      return c.json(body, 200);
    },
  )
  .openapi(
    scopedRoute("public", {
      operationId: "collectBrowserEvents",
      method: "post",
      path: "/collect",
      tags: ["Personalization"],
      summary:
        "Browser events for the presented device only (allowed types, rate limited; public key)",
      request: {
        query: z.object({
          device: z.string().optional(),
          key: z.string().optional(),
          gpc: z
            .enum(["1"])
            .optional()
            .meta({ description: "The page's `navigator.globalPrivacyControl` (as `Sec-GPC: 1`)" }),
        }),
        body: {
          content: {
            "text/plain": {
              schema: z
                .string()
                .meta({ description: "CollectBody as JSON (text/plain keeps beacons simple)" }),
            },
            "application/json": { schema: CollectBody },
          },
        },
      },
      responses: {
        200: {
          description: "Per-event outcome",
          content: { "application/json": { schema: ingestShape } },
        },
        ...errorResponses(400, 401, 403, 413, 429),
      },
    }),
    async (c) => {
      const device = deviceOf(c);
      const text = await readBodyText(c);
      if (text.length > COLLECT_BODY_LIMIT)
        throw new ApiError(
          "payload_too_large",
          `collect bodies are at most ${COLLECT_BODY_LIMIT} bytes`,
        );
      const raw = parseJsonText(text);
      const parsed = CollectBody.safeParse(raw);
      if (!parsed.success) {
        throw new ApiError(
          "invalid_request",
          "collect takes { events: [{ type, timestamp?, data? }] } — no identities or attributes",
          {
            details: parsed.error.issues.map((i) => ({
              path: formatPath(i.path),
              message: i.message,
            })),
          },
        );
      }
      await rateLimitBrowser(
        c,
        c.var.principal.keyId,
        new Map([[device, parsed.data.events.length]]),
      );
      const { answer, consistency } = await collectEvents(c, {
        device,
        body: parsed.data,
        sent: (raw as { events: Record<string, unknown>[] }).events,
        gpc: gpcOf(c),
      });
      // The widget keeps the token in its first-party cookie, so its next /v1/context sees this write.
      if (consistency) c.header("Tessera-Consistency", consistency);
      return c.json(answer, 200);
    },
  );

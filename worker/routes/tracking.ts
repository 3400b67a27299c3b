/**
 * The tracking API (SPEC §2): Segment's and RudderStack's SDKs send here unchanged.
 * `/v1/batch`, `/v1/identify`, `/v1/track`, `/v1/page`, `/v1/screen`, `/v1/group`,
 * `/v1/alias`, analytics.js's one-letter paths (`/v1/t` …, `/v1/b`), and the settings
 * document analytics.js loads at start. Bodies are JSON whatever the Content-Type,
 * gzip-encoded or not.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ConsentSettings } from "../../shared/schemas/consent";
import { TrackingBatch, TrackingMessage, TrackingResult } from "../../shared/schemas/tracking";
import { verifyIdentityToken } from "../auth/tokens";
import { fromCategories, gpcChoices } from "../consent/merge";
import { consentSettings } from "../consent/service";
import type { AppEnv } from "../env";
import type { IdentityConfig } from "../graph/identity-config";
import { resolveIdentity, resolveIdentityString } from "../graph/identity-param";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { ingestItems, type RawItem, validationContext } from "../ingest/service";
import { ingestAnswerHeaders } from "../ingest/timing";
import type { ItemError, NormalizedItem } from "../ingest/types";
import { type ValidationContext, validateConsent } from "../ingest/validate";
import { parseJsonText, readBodyText } from "../lib/body";
import { ApiError } from "../lib/errors";
import { selfCheckedBody } from "../lib/openapi";
import { countByDevice, rateLimitBrowser } from "../personalization/rate-limit";
import { browserIdentities } from "../tracking/browser";
import {
  type BrowserScope,
  claimedIdentities,
  type MessageType,
  mapMessage,
  TRACKING_LIMITS,
} from "../tracking/messages";
import { trackingOf } from "../tracking/settings";

const tags = ["Tracking"];

/** Documented by the registered components; typed by the zod schemas; read as JSON whatever the Content-Type. */
function trackingBody<T extends typeof TrackingMessage | typeof TrackingBatch>(
  schema: T,
  example: object,
) {
  const documented = { $ref: `#/components/schemas/${schema.meta()?.id}` };
  const body = selfCheckedBody(schema, documented, example);
  return { ...body, content: { ...body.content, "text/plain": { schema: documented, example } } };
}

function trackingRoute<P extends string, T extends typeof TrackingMessage | typeof TrackingBatch>(
  operationId: string,
  path: P,
  summary: string,
  schema: T,
  example: object,
) {
  return scopedRoute("tracking", {
    operationId,
    method: "post",
    path,
    tags,
    summary,
    request: { body: trackingBody(schema, example) },
    responses: {
      200: {
        description: "Per-message outcome",
        content: { "application/json": { schema: TrackingResult } },
      },
    },
  });
}

/**
 * A browser (public key) message: which identities it may carry (./tracking/browser.ts),
 * with the identity token verified against the key's site secret and every id normalized
 * under the deployment's namespace rules before it is compared with the token's subject.
 */
async function browserScope(
  c: Context<AppEnv>,
  message: unknown,
  type: MessageType | undefined,
  identity: IdentityConfig,
): Promise<{ ok: true; scope: BrowserScope } | { ok: false; error: ItemError }> {
  const m = (message ?? {}) as Record<string, unknown>;
  const claims = claimedIdentities(m);
  if (claims.anonymousId === undefined)
    return {
      ok: false,
      error: {
        code: "invalid_request",
        message: "browser messages need the visitor's anonymousId",
      },
    };
  const tessera = (m.context as { tessera?: { identityToken?: unknown } } | undefined)?.tessera;
  const token = typeof tessera?.identityToken === "string" ? tessera.identityToken : undefined;
  const sub = token ? await verifyIdentityToken(c.env, c.var.principal.keyId, token) : undefined;
  const resolved = sub ? resolveIdentityString(identity, sub, "identityToken.sub") : undefined;
  const subject = resolved?.ok ? resolved.value : undefined;
  const isSubject = (namespace: string, id: string) => {
    const r = resolveIdentity(identity, namespace, id);
    return (
      r.ok &&
      subject !== undefined &&
      r.value.namespace === subject.namespace &&
      r.value.value === subject.value
    );
  };
  const kind = type ?? (m.type as MessageType | undefined);
  const allowed = browserIdentities({
    kind,
    claims,
    subject,
    userIdNamespace: trackingOf(c.var.principal.tracking).userIdNamespace,
    isSubject,
  });
  return allowed.ok ? { ok: true, scope: { subject: allowed.subject } } : allowed;
}

/**
 * The consent items of one message: `context.consent.categoryPreferences` mapped to purposes
 * by the consent settings' categories (source `tracking`), and for a browser with
 * `Sec-GPC: 1` a denial of every purpose that follows GPC. Recorded for the message's
 * identities (for a browser: only those it may claim).
 */
function messageConsent(
  ctx: ValidationContext,
  settings: ConsentSettings,
  item: { identities: { namespace: string; id: string }[] },
  message: unknown,
  index: number,
  gpc: boolean,
  at: number,
): NormalizedItem[] {
  const preferences = (message as { context?: { consent?: { categoryPreferences?: unknown } } })
    ?.context?.consent?.categoryPreferences;
  const choices =
    preferences && typeof preferences === "object"
      ? fromCategories(settings, preferences as Record<string, unknown>)
      : {};
  const out: NormalizedItem[] = [];
  const purposes = new Set(settings.purposes.map((p) => p.id));
  for (const [source, chosen] of [
    ["tracking", choices],
    ["gpc", gpc ? gpcChoices(settings) : {}],
  ] as const) {
    if (Object.keys(chosen).length === 0) continue;
    const checked = validateConsent(
      { identities: item.identities, purposes: chosen },
      ctx,
      purposes,
    );
    if (checked.ok)
      out.push({
        ...checked.item,
        index: -(index * 2 + (source === "gpc" ? 2 : 1)),
        at,
        consent: { purposes: chosen, source },
      });
  }
  return out;
}

/** Maps, validates and ingests the messages of one call; the answer every tracking route gives. */
async function ingestMessages(
  c: Context<AppEnv>,
  messages: unknown[],
  type: MessageType | undefined,
  batchSentAt: unknown,
) {
  const receivedAt = Date.now();
  const settings = trackingOf(c.var.principal.tracking);
  const browser = c.var.principal.kind === "public";
  const rejected: { index: number; error: ItemError }[] = [];
  const raw: RawItem[] = [];
  const [ctx, consent] = await Promise.all([
    validationContext(c.env, c.var.db, "batch", receivedAt),
    consentSettings(c.var.db),
  ]);
  const before: NormalizedItem[] = [];
  const gpc = c.req.header("sec-gpc") === "1";
  for (const [index, message] of messages.entries()) {
    const bytes = JSON.stringify(message ?? null).length;
    if (bytes > TRACKING_LIMITS.messageBytes) {
      rejected.push({
        index,
        error: {
          code: "item_too_large",
          message: `a message is at most ${TRACKING_LIMITS.messageBytes} bytes (this one is ${bytes})`,
        },
      });
      continue;
    }
    const scope = browser ? await browserScope(c, message, type, ctx.identity) : undefined;
    if (scope && !scope.ok) {
      rejected.push({ index, error: scope.error });
      continue;
    }
    const result = mapMessage(message, type, {
      settings,
      receivedAt,
      batchSentAt,
      fallbackId: `${c.get("requestId")}:${index}`,
      browser: scope?.scope,
    });
    if (!result.ok) {
      rejected.push({ index, error: result.error });
      continue;
    }
    // Consent the message carries (Segment's categoryPreferences; a browser's Sec-GPC) is recorded before it.
    before.push(
      ...messageConsent(
        ctx,
        consent,
        result.item as { identities: { namespace: string; id: string }[] },
        message,
        index,
        browser && gpc,
        receivedAt,
      ),
    );
    // A browser's messages store nothing for a visitor who denied analytics.
    raw.push({
      index,
      kind: result.kind,
      value: result.item,
      receipt: result.receipt ? { id: result.messageId, type: result.receipt.type } : undefined,
      ...(browser ? { requires: "analytics" } : {}),
    });
  }
  if (browser && raw.length > 0) {
    // Every browser message carries its anonymousId (browserScope refuses those without).
    const devices = raw.map(
      (r) => claimedIdentities(messages[r.index] as Record<string, unknown>).anonymousId!,
    );
    await rateLimitBrowser(c, c.var.principal.keyId, countByDevice(devices));
  }
  let accepted = 0;
  let duplicates = 0;
  let ignored = 0;
  if (raw.length > 0) {
    const { outcomes, cost } = await ingestItems(c.env, ctx, raw, {
      atomic: false,
      receivedAt,
      before,
    });
    for (const o of outcomes) {
      if (o.status === "accepted") accepted++;
      else if (o.status === "duplicate") duplicates++;
      else if (o.status === "ignored") ignored++;
      else rejected.push({ index: o.index, error: o.error });
    }
    ingestAnswerHeaders(c, cost);
  }
  rejected.sort((a, b) => a.index - b.index);
  return c.json(
    {
      success: true as const,
      accepted,
      duplicates,
      rejected,
      ...(ignored ? { ignored, reason: "consent" as const } : {}),
    },
    200,
  );
}

async function readMessages(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const text = await readBodyText(c);
  if (new TextEncoder().encode(text).length > TRACKING_LIMITS.batchBytes) {
    throw new ApiError(
      "payload_too_large",
      `tracking calls are at most ${TRACKING_LIMITS.batchBytes} bytes (decompressed)`,
    );
  }
  const body = parseJsonText(text);
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new ApiError("invalid_request", "the body must be a JSON object");
  return body as Record<string, unknown>;
}

async function batchCall(c: Context<AppEnv>) {
  const body = await readMessages(c);
  if (!Array.isArray(body.batch))
    throw new ApiError("invalid_request", "`batch` must be an array of messages", {
      details: [{ path: "batch", message: "not an array" }],
    });
  if (body.batch.length > TRACKING_LIMITS.messagesPerBatch)
    throw new ApiError(
      "too_many_items",
      `at most ${TRACKING_LIMITS.messagesPerBatch} messages per batch`,
    );
  return ingestMessages(c, body.batch, undefined, body.sentAt);
}

/** One message whose type is the path's (`/v1/track`, analytics.js's `/v1/t` …). */
async function singleCall(c: Context<AppEnv>, type: MessageType) {
  const body = await readMessages(c);
  return ingestMessages(c, [body], type, body.sentAt);
}

const BATCH_EXAMPLE = TrackingBatch.meta()?.example as object;
const messageExample = (type: MessageType) => ({
  ...(TrackingMessage.meta()?.example as object),
  type,
});
const batchRoute = <P extends string>(operationId: string, path: P, summary: string) =>
  trackingRoute(operationId, path, summary, TrackingBatch, BATCH_EXAMPLE);
const capitalized = (type: MessageType) => `${type[0]!.toUpperCase()}${type.slice(1)}`;
/** `/v1/identify` …: one message of the path's type. */
const segmentRoute = <P extends `/${MessageType}`>(type: MessageType, path: P) =>
  trackingRoute(
    `track${capitalized(type)}`,
    path,
    `Segment ${type} (one message)`,
    TrackingMessage,
    messageExample(type),
  );
/** analytics.js's one-letter paths (`/v1/t` …). */
const analyticsJsRoute = <P extends string>(type: MessageType, path: P) =>
  trackingRoute(
    `analyticsJs${capitalized(type)}`,
    path,
    `analytics.js ${type} (same as /v1/${type})`,
    TrackingMessage,
    messageExample(type),
  );

export const trackingRouter = createRouter()
  .openapi(
    batchRoute(
      "trackBatch",
      "/batch",
      "Segment / RudderStack batch: `{ batch: [message, …], sentAt? }` (≤ 500 KB)",
    ),
    (c) => batchCall(c),
  )
  .openapi(batchRoute("analyticsJsBatch", "/b", "analytics.js batch (same as /v1/batch)"), (c) =>
    batchCall(c),
  )
  .openapi(segmentRoute("identify", "/identify"), (c) => singleCall(c, "identify"))
  .openapi(segmentRoute("track", "/track"), (c) => singleCall(c, "track"))
  .openapi(segmentRoute("page", "/page"), (c) => singleCall(c, "page"))
  .openapi(segmentRoute("screen", "/screen"), (c) => singleCall(c, "screen"))
  .openapi(segmentRoute("group", "/group"), (c) => singleCall(c, "group"))
  .openapi(segmentRoute("alias", "/alias"), (c) => singleCall(c, "alias"))
  .openapi(analyticsJsRoute("identify", "/i"), (c) => singleCall(c, "identify"))
  .openapi(analyticsJsRoute("track", "/t"), (c) => singleCall(c, "track"))
  .openapi(analyticsJsRoute("page", "/p"), (c) => singleCall(c, "page"))
  .openapi(analyticsJsRoute("screen", "/s"), (c) => singleCall(c, "screen"))
  .openapi(analyticsJsRoute("group", "/g"), (c) => singleCall(c, "group"))
  .openapi(analyticsJsRoute("alias", "/a"), (c) => singleCall(c, "alias"))
  .openapi(
    scopedRoute("tracking", {
      operationId: "getAnalyticsJsSettings",
      method: "get",
      path: "/projects/{writeKey}/settings",
      tags,
      summary:
        "The settings document analytics.js loads at start (public key in the path, from one of its origins)",
      request: { params: z.object({ writeKey: z.string() }) },
      responses: {
        200: {
          description: "analytics.js settings pointing at this Worker",
          content: { "application/json": { schema: z.looseObject({}) } },
        },
      },
    }),
    async (c) => {
      const url = new URL(c.req.url);
      const writeKey = c.req.valid("param").writeKey;
      return c.json(
        {
          integrations: {
            "Segment.io": {
              apiKey: writeKey,
              apiHost: `${url.host}/v1`,
              protocol: url.protocol.replace(":", ""),
              unbundledIntegrations: [],
              addBundledMetadata: false,
              maybeBundledConfigIds: {},
            },
          },
          plan: {
            track: { __default: { enabled: true, integrations: {} } },
            identify: { __default: { enabled: true } },
            group: { __default: { enabled: true } },
          },
          edgeFunction: {},
          analyticsNextEnabled: true,
          middlewareSettings: {},
          enabledMiddleware: {},
          // No metrics: analytics.js would otherwise report to Segment's own servers.
          metrics: { sampleRate: 0 },
          legacyVideoPluginsEnabled: false,
          remotePlugins: [],
        },
        200,
      );
    },
  );
trackingRouter.openAPIRegistry.register("TrackingMessage", TrackingMessage);
trackingRouter.openAPIRegistry.register("TrackingBatch", TrackingBatch);

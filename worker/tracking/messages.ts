/**
 * The tracking API's mapping (SPEC §2 "Tracking API"): a Segment-spec message (identify,
 * track, page, screen, group, alias) becomes one Tessera ingest item, which then goes
 * through the same validation, limits, suppression and write lane as /v1/events and
 * /v1/records. Plain logic: no HTTP, no D1.
 *
 * - `userId` → the key's `userIdNamespace` (default `crm`); `anonymousId` → `device`;
 *   `traits.email` / `traits.phone` (and `context.traits.*`) → `email` / `phone`.
 * - identify → a record of the traits; group → a record of `groups.<groupId>`; both also
 *   store an `identify` / `group` event with the `messageId`, so a resent message is a
 *   duplicate and the timeline shows the call.
 * - track → an event of type `event`; page → `page.view`; screen → `screen.view`; alias →
 *   an `alias` event carrying `userId` and `previousId`, which links them.
 * - From a browser (`browser` option), only the device and the verified subject are
 *   identities; ./browser.ts decides which messages may name a person at all.
 * - `messageId` is the event id. Timestamps are corrected for device clock skew as Segment
 *   does: timestamp + (receivedAt − sentAt).
 */
import { DEVICE_ID_PATTERN } from "../../shared/identity/normalize";
import { MESSAGE_TYPES, type MessageType, TRACKING_LIMITS } from "../../shared/schemas/tracking";
import type { ErrorCode } from "../lib/errors";
import type { IdentityRef } from "../model/graph";
import type { TrackingSettings } from "./settings";

export { type MessageType, TRACKING_LIMITS };

/** What a message becomes: an item for validateEvent / validateRecord. */
type MappedMessage =
  | {
      ok: true;
      kind: "events" | "records";
      item: Record<string, unknown>;
      messageId: string;
      receipt?: { type: string };
    }
  | {
      ok: false;
      error: { code: ErrorCode; message: string; details?: { path: string; message: string }[] };
    };

type Message = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;

function fail(code: ErrorCode, message: string, path?: string): MappedMessage {
  return { ok: false, error: { code, message, ...(path ? { details: [{ path, message }] } : {}) } };
}

/** Segment's clock-skew correction: the device's timestamp moved by (receivedAt − sentAt). */
function correctedTimestamp(
  message: Message,
  batchSentAt: unknown,
  receivedAt: number,
): string | undefined {
  const timestamp = text(message.timestamp) ?? text(message.originalTimestamp);
  if (!timestamp) return new Date(receivedAt).toISOString();
  const at = Date.parse(timestamp);
  if (!Number.isFinite(at)) return timestamp; // validation rejects it with invalid_timestamp
  const sentAt = Date.parse(text(message.sentAt) ?? text(batchSentAt) ?? "");
  if (!Number.isFinite(sentAt)) return new Date(at).toISOString();
  return new Date(at + (receivedAt - sentAt)).toISOString();
}

/** The `context` fields worth keeping with an event. */
function usefulContext(message: Message): Record<string, unknown> | undefined {
  const context = isObject(message.context) ? message.context : {};
  const out: Record<string, unknown> = {};
  for (const key of [
    "page",
    "campaign",
    "userAgent",
    "locale",
    "library",
    "screen",
    "app",
    "os",
    "device",
    "timezone",
    "referrer",
  ]) {
    if (context[key] !== undefined) out[key] = context[key];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface MessageIdentities {
  userId?: string;
  anonymousId?: string;
  email?: string;
  phone?: string;
  /** An alias message's earlier id. */
  previousId?: string;
}

/** The identities a message claims, as sent. */
export function claimedIdentities(message: Message): MessageIdentities {
  const traits = isObject(message.traits) ? message.traits : {};
  const contextTraits =
    isObject(message.context) && isObject(message.context.traits) ? message.context.traits : {};
  return {
    userId: text(message.userId),
    anonymousId: text(message.anonymousId),
    email: text(traits.email) ?? text(contextTraits.email),
    phone: text(traits.phone) ?? text(contextTraits.phone),
    previousId: text(message.previousId),
  };
}

/** In browser mode, only the device and the verified subject (see ./browser.ts). */
export interface BrowserScope {
  subject?: IdentityRef;
}

function identitiesOf(
  claims: MessageIdentities,
  settings: TrackingSettings,
  extra: { namespace: string; id: string }[] = [],
  browser?: BrowserScope,
) {
  const identities: { namespace: string; id: string }[] = [];
  if (browser) {
    if (browser.subject)
      identities.push({ namespace: browser.subject.namespace, id: browser.subject.value });
    if (claims.anonymousId !== undefined)
      identities.push({ namespace: "device", id: claims.anonymousId });
    return identities;
  }
  if (claims.userId !== undefined)
    identities.push({ namespace: settings.userIdNamespace, id: claims.userId });
  identities.push(...extra);
  if (claims.anonymousId !== undefined)
    identities.push({ namespace: "device", id: claims.anonymousId });
  if (claims.email !== undefined) identities.push({ namespace: "email", id: claims.email });
  if (claims.phone !== undefined) identities.push({ namespace: "phone", id: claims.phone });
  return identities;
}

/**
 * Maps one message. `type` comes from the path (`/v1/track`) or, in a batch, from the
 * message's own `type`. `messageId` falls back to `fallbackId` (stable per call) when absent.
 */
export function mapMessage(
  message: unknown,
  type: string | undefined,
  options: {
    settings: TrackingSettings;
    receivedAt: number;
    batchSentAt?: unknown;
    fallbackId: string;
    browser?: BrowserScope;
  },
): MappedMessage {
  if (!isObject(message)) return fail("invalid_request", "a message must be a JSON object");
  const kind = (type ?? text(message.type)) as MessageType | undefined;
  if (!kind || !MESSAGE_TYPES.includes(kind)) {
    return fail(
      "invalid_request",
      `unknown message type ${JSON.stringify(message.type ?? null)}: one of ${MESSAGE_TYPES.join(", ")}`,
      "type",
    );
  }
  const claims = claimedIdentities(message);
  if (claims.userId === undefined && claims.anonymousId === undefined) {
    return fail("invalid_request", "a message needs a userId or an anonymousId", "userId");
  }
  if (claims.anonymousId !== undefined && !DEVICE_ID_PATTERN.test(claims.anonymousId)) {
    // Documented: anonymous ids are device ids (analytics.js mints UUIDs, which fit).
    return fail(
      "invalid_identity",
      "anonymousId must be 16–64 characters of [A-Za-z0-9_-] (a UUID fits); send other ids as userId",
      "anonymousId",
    );
  }
  const messageId = text(message.messageId) ?? options.fallbackId;
  const timestamp = correctedTimestamp(message, options.batchSentAt, options.receivedAt);
  const { settings } = options;
  const context = usefulContext(message);
  const event = (
    eventType: string,
    data: Record<string, unknown>,
    extra: { namespace: string; id: string }[] = [],
  ): MappedMessage => ({
    ok: true,
    kind: "events",
    messageId,
    item: {
      id: messageId,
      type: eventType,
      timestamp,
      dataset: settings.dataset,
      identities: identitiesOf(claims, settings, extra, options.browser),
      data: { ...data, ...(context ? { context } : {}) },
    },
  });

  switch (kind) {
    case "track": {
      const name = text(message.event);
      if (!name) return fail("invalid_request", "a track message needs an `event` name", "event");
      return event(name, {
        ...(isObject(message.properties) ? { properties: message.properties } : {}),
      });
    }
    case "page":
    case "screen":
      return event(kind === "page" ? "page.view" : "screen.view", {
        ...(text(message.name) ? { name: message.name } : {}),
        ...(text(message.category) ? { category: message.category } : {}),
        ...(isObject(message.properties) ? { properties: message.properties } : {}),
      });
    case "alias": {
      const previousId = claims.previousId;
      if (!previousId || claims.userId === undefined)
        return fail(
          "invalid_request",
          "an alias message needs `previousId` and `userId`",
          "previousId",
        );
      // The previous id is the visitor's device when it is the message's anonymousId, else an earlier userId.
      const previous =
        previousId === claims.anonymousId
          ? { namespace: "device", id: previousId }
          : { namespace: settings.userIdNamespace, id: previousId };
      return event("alias", { previousId }, [previous]);
    }
    case "identify":
    case "group": {
      const traits = isObject(message.traits) ? message.traits : {};
      let attributes: Record<string, unknown> = traits;
      if (kind === "group") {
        const groupId = text(message.groupId);
        if (!groupId)
          return fail("invalid_request", "a group message needs a `groupId`", "groupId");
        attributes = { groups: Object.fromEntries([[groupId, traits]]) };
      }
      return {
        ok: true,
        kind: "records",
        messageId,
        receipt: { type: kind },
        item: {
          dataset: settings.dataset,
          timestamp,
          identities: identitiesOf(claims, settings, [], options.browser),
          attributes,
        },
      };
    }
  }
}

/**
 * `GET /v1/context` (SPEC "Segments and personalization"): what a website may know about
 * the visitor presenting a device id — and nothing more.
 *
 * - Anonymous (no valid identity token): only what the device itself did counts. Public
 *   segments are evaluated on the fly against the device's own events; attributes come from
 *   the device's own fragments. Data of a graph the device was linked to by someone else
 *   never counts.
 * - Known (a valid identity token signed with the key's site secret): the device is linked
 *   to that identity, and the context is that person's public segment memberships and
 *   allow-listed attributes.
 * Only allow-listed attribute paths ever leave; only public segments are named.
 */
import { allowListed } from "../../shared/attribute-tree";
import type { ConsentStatus } from "../../shared/schemas/consent";
import { verifyIdentityToken } from "../auth/tokens";
import { cachedSegmentDefs, getCachedSetting } from "../config/service";
import { isGranted, type ProfileConsent, profileConsent } from "../consent/merge";
import { browserConsentItems, consentSettings, readDeviceConsent } from "../consent/service";
import type { Db } from "../db/client";
import { deviceLinkState, deviceOwnData, publicMemberships } from "../db/queries/context";
import { loadProfile } from "../db/queries/profiles";
import { loadIdentityConfig } from "../graph/identity-config";
import { resolveIdentityString } from "../graph/identity-param";
import type { Bindings } from "../model/bindings";
import { DEFAULT_POLICY, mergeFragments } from "../profiles/merge";
import { bundleConsent, fragmentsOf } from "../profiles/service";
import { evaluate, eventNeedsOf } from "../segments/rules";
import { ingestCommand, linkDevice } from "../writer/client";

/** How stale a device link's `lastSeen` may get before a page view refreshes it. */
const LINK_REFRESH_MS = 60 * 60 * 1000;

interface VisitorContextBody {
  device: string;
  known: boolean;
  segments: string[];
  attributes: Record<string, unknown>;
  /** The visitor's consent per purpose, statuses only: present when a purpose is denied or a choice is on record. */
  consent?: Record<string, "granted" | "denied">;
}

async function allowList(db: Db): Promise<string[]> {
  return (await getCachedSetting(db, "personalization"))?.attributes ?? [];
}

/** Links the device to the token's identity; the person's profile id, or undefined (e.g. suppressed). */
async function linkKnownVisitor(
  env: Bindings,
  db: Db,
  device: string,
  sub: string,
): Promise<string | undefined> {
  const config = await loadIdentityConfig(db, env.TESSERA_PHONE_REGION);
  const resolved = resolveIdentityString(config, sub, "identityToken.sub");
  if (!resolved.ok) return undefined;
  const identity = resolved.value;
  const now = Date.now();
  // Most page views of a signed-in visitor change nothing: the device is already in the
  // person's profile and the link was seen recently. Only a new link, a device that must
  // move, or a stale `lastSeen` goes through the write lane.
  // On the primary (not the request's session): whether to write must not depend on a replica's lag.
  const state = await deviceLinkState(env.DB, device, identity);
  if (
    state &&
    state.deviceProfile === state.identityProfile &&
    state.linkLastSeen !== null &&
    now - state.linkLastSeen < LINK_REFRESH_MS
  ) {
    return state.identityProfile;
  }
  return linkDevice(env, device, identity, now);
}

/** What a visitor who denied `personalization` gets: the answer for an unknown visitor, with nothing in it. */
const withheld = (device: string, consent: ProfileConsent): VisitorContextBody => ({
  device,
  known: false,
  segments: [],
  attributes: {},
  ...statuses(consent),
});

/**
 * The visitor's consent as a browser sees it: statuses only (not when or where choices were
 * made), and only when there is something to say — a denial, or a choice on record — so the
 * common answer keeps its shape.
 */
function statuses(consent: ProfileConsent): { consent?: Record<string, "granted" | "denied"> } {
  const entries = Object.entries(consent);
  if (entries.every(([, c]) => c.status === "granted" && c.source === "default")) return {};
  return { consent: Object.fromEntries(entries.map(([p, c]) => [p, c.status])) };
}

export async function visitorContext(
  env: Bindings,
  db: Db,
  publicKeyId: string,
  device: string,
  identityToken?: string,
  browser: { sent?: Record<string, ConsentStatus>; gpc?: boolean } = {},
): Promise<VisitorContextBody> {
  const [paths, settings] = await Promise.all([allowList(db), consentSettings(db)]);
  const choices = browserConsentItems(
    settings,
    device,
    browser.sent,
    browser.gpc ?? false,
    Date.now(),
  );
  if (choices.length)
    await ingestCommand(env, { items: choices, atomic: false, receivedAt: Date.now() });
  // Choices just recorded must be seen: read the primary then, not a replica that may lag.
  const reads = choices.length ? env.DB : db.$client;
  const sub = identityToken
    ? await verifyIdentityToken(env, publicKeyId, identityToken)
    : undefined;
  if (sub) {
    const profileId = await linkKnownVisitor(env, db, device, sub);
    if (profileId) {
      // The profile's bundle carries its consent choices: one read for both.
      const [bundle, segments] = await Promise.all([
        loadProfile(reads, { profileId }, {}),
        publicMemberships(db.$client, profileId),
      ]);
      const consent = bundle ? bundleConsent(settings, bundle) : profileConsent(settings, []);
      if (!isGranted(consent, "personalization")) return withheld(device, consent);
      const attributes = bundle
        ? mergeFragments(fragmentsOf(bundle), DEFAULT_POLICY).attributes
        : {};
      return {
        device,
        known: true,
        segments,
        attributes: allowListed(attributes, paths),
        ...statuses(consent),
      };
    }
  }

  const publicSegments = (await cachedSegmentDefs(env.DB)).filter((s) => s.public);
  const now = Date.now();
  const needs = eventNeedsOf(
    publicSegments.map((s) => s.rule),
    now,
  );
  // The device's profile decides consent (its choices may have been made on another device of the same person).
  const [own, consent] = await Promise.all([
    deviceOwnData(db.$client, device, needs.types, needs.since),
    readDeviceConsent(reads, settings, device),
  ]);
  if (!isGranted(consent, "personalization")) return withheld(device, consent);
  const attributes = mergeFragments(
    own.fragments.map((f) => ({
      dataset: f.dataset,
      namespace: "device",
      value: device,
      attributes: JSON.parse(f.attributes),
      updatedAt: f.updated_at,
    })),
    DEFAULT_POLICY,
  ).attributes;
  const subject = {
    attributes,
    events: own.events.map((e) => ({
      type: e.type,
      at: e.at,
      data: e.data ? JSON.parse(e.data) : null,
    })),
  };
  const segments = publicSegments
    .filter((s) => evaluate(s.rule, subject, now).match)
    .map((s) => s.id);
  return {
    device,
    known: false,
    segments,
    attributes: allowListed(attributes, paths),
    ...statuses(consent),
  };
}

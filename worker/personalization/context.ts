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
import { deviceLinkState, deviceOwnData, publicMemberships } from "../db/queries/context";
import type { Db } from "../db/client";
import { cachedSegmentDefs, getCachedSetting } from "../config/service";
import { loadProfile } from "../db/queries/profiles";
import type { Bindings } from "../env";
import { verifyIdentityToken } from "../auth/tokens";
import { resolveIdentityString } from "../graph/identity-param";
import { loadIdentityConfig } from "../graph/identity-config";
import { graphWriter } from "../writer/client";
import { DEFAULT_POLICY, mergeFragments } from "../profiles/merge";
import { fragmentsOf } from "../profiles/service";
import { evaluate, eventNeedsOf } from "../segments/rules";

/** How stale a device link's `lastSeen` may get before a page view refreshes it. */
export const LINK_REFRESH_MS = 60 * 60 * 1000;

export interface VisitorContextBody {
  device: string;
  known: boolean;
  segments: string[];
  attributes: Record<string, unknown>;
}

async function allowList(db: Db): Promise<string[]> {
  return (await getCachedSetting(db, "personalization"))?.attributes ?? [];
}

/** Links the device to the token's identity; the person's profile id, or undefined (e.g. suppressed). */
async function linkKnownVisitor(env: Bindings, db: Db, device: string, sub: string): Promise<string | undefined> {
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
  if (state && state.deviceProfile === state.identityProfile && state.linkLastSeen !== null && now - state.linkLastSeen < LINK_REFRESH_MS) {
    return state.identityProfile;
  }
  return graphWriter(env).linkDevice(device, identity, now);
}

export async function visitorContext(env: Bindings, db: Db, publicKeyId: string, device: string, identityToken?: string): Promise<VisitorContextBody> {
  const paths = await allowList(db);
  const sub = identityToken ? await verifyIdentityToken(env, publicKeyId, identityToken) : undefined;
  if (sub) {
    const profileId = await linkKnownVisitor(env, db, device, sub);
    if (profileId) {
      const [bundle, segments] = await Promise.all([loadProfile(db.$client, { profileId }, {}), publicMemberships(db.$client, profileId)]);
      const attributes = bundle ? mergeFragments(fragmentsOf(bundle), DEFAULT_POLICY).attributes : {};
      return { device, known: true, segments, attributes: allowListed(attributes, paths) };
    }
  }

  const publicSegments = (await cachedSegmentDefs(env.DB)).filter((s) => s.public);
  const now = Date.now();
  const needs = eventNeedsOf(publicSegments.map((s) => s.rule), now);
  const own = await deviceOwnData(db.$client, device, needs.types, needs.since);
  const attributes = mergeFragments(
    own.fragments.map((f) => ({ dataset: f.dataset, namespace: "device", value: device, attributes: JSON.parse(f.attributes), updatedAt: f.updated_at })),
    DEFAULT_POLICY,
  ).attributes;
  const subject = { attributes, events: own.events.map((e) => ({ type: e.type, at: e.at, data: e.data ? JSON.parse(e.data) : null })) };
  const segments = publicSegments.filter((s) => evaluate(s.rule, subject, now).match).map((s) => s.id);
  return { device, known: false, segments, attributes: allowListed(attributes, paths) };
}


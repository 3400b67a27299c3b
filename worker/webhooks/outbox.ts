/**
 * Turns what the writer committed into webhook deliveries (SPEC §5): segment entries and
 * exits, merges, splits and erasures, for every webhook destination subscribed to them.
 * Built inside the writer from its own changes — never guessed outside it — and inserted
 * in the same batch as the change.
 */

import { allowListed } from "../../shared/attribute-tree";
import type { WebhookDestinationConfig, WebhookEventType } from "../../shared/schemas/destinations";
import { grantsAll, type ProfileConsent } from "../consent/merge";
import type { NewDelivery } from "../db/queries/webhooks";
import type { HistoryEntry } from "../model/graph";

export interface ActivationFact {
  type: WebhookEventType;
  profileId: string;
  at: number;
  segmentId?: string;
  /** Merged: the profiles merged into `profileId`; split: the profiles it split into. */
  profiles?: string[];
  /** An exit because consent was revoked: sent only to destinations that declared one of `purposes`. */
  reason?: "consent";
  purposes?: string[];
}

export interface ProfileView {
  primaryIdentity?: { namespace: string; id: string };
  attributes: Record<string, unknown>;
  consent?: ProfileConsent;
}

export interface WebhookDestination {
  name: string;
  config: WebhookDestinationConfig;
}

export function buildDeliveries(
  facts: readonly ActivationFact[],
  destinations: readonly WebhookDestination[],
  view: (profileId: string) => ProfileView | undefined,
  nextSequence: () => number,
): NewDelivery[] {
  const out: NewDelivery[] = [];
  for (const fact of facts) {
    for (const d of destinations) {
      if (!d.config.events.includes(fact.type)) continue;
      if (fact.segmentId && d.config.segments && !d.config.segments.includes(fact.segmentId))
        continue;
      // Erased people leave nothing personal behind: the profile id only.
      const profile = fact.type === "profile.erased" ? undefined : view(fact.profileId);
      // Consent (SPEC §8): a revocation's exits go only where a revoked purpose was declared;
      // otherwise a destination with purposes hears only of profiles that granted them all.
      if (
        fact.reason === "consent"
          ? !d.config.purposes?.some((p) => fact.purposes?.includes(p))
          : profile && !grantsAll(profile.consent, d.config.purposes)
      )
        continue;
      const sequence = nextSequence();
      const id = `msg_${crypto.randomUUID().replace(/-/g, "")}`;
      const data: Record<string, unknown> = { profileId: fact.profileId, sequence };
      if (profile?.primaryIdentity) data.primaryIdentity = profile.primaryIdentity;
      if (fact.segmentId) data.segment = { id: fact.segmentId };
      if (fact.profiles) data.profiles = fact.profiles;
      if (fact.reason) data.reason = fact.reason;
      if (profile && d.config.attributes?.length)
        data.attributes = allowListed(profile.attributes, d.config.attributes);
      const payload = JSON.stringify({
        type: fact.type,
        timestamp: new Date(fact.at).toISOString(),
        data,
      });
      out.push({
        id,
        destination: d.name,
        type: fact.type,
        profileId: fact.profileId,
        sequence,
        payload,
        at: fact.at,
      });
    }
  }
  return out;
}

/** Merges and splits from the graph history a change wrote. */
export function graphActivation(history: readonly HistoryEntry[]): ActivationFact[] {
  return history.flatMap((h): ActivationFact[] => {
    const [profileId, ...others] = h.profiles;
    if (!profileId) return [];
    if (h.kind === "merge")
      return [{ type: "profile.merged", profileId, at: h.at, profiles: others }];
    if (h.kind === "split" || h.kind === "evict")
      return [{ type: "profile.split", profileId, at: h.at, profiles: others }];
    return [];
  });
}

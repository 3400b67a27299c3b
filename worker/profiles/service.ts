/**
 * Reading one merged profile: load the bundle (one D1 round trip), apply the merge
 * policy, shape the response, and give it a strong ETag.
 */

import { sha256Hex } from "../../shared/digest";
import { COMPUTED_DATASET } from "../../shared/schemas/computed";
import type { ConsentSettings } from "../../shared/schemas/consent";
import { eventsCounted } from "../computed/aggregate";
import { cachedComputedDefs, cachedDatasets, findMergePolicy } from "../config/service";
import { consentByProfile, type ProfileConsent } from "../consent/merge";
import { consentSettings, presentConsent } from "../consent/service";
import type { Db } from "../db/client";
import { linksAmong, profileHistory } from "../db/queries/graph";
import { toPolicy } from "../db/queries/merge-policies";
import { loadProfile, type ProfileBundle, type ProfileSelector } from "../db/queries/profiles";
import { ok, problem, type Result } from "../lib/result";
import { toIso } from "../lib/time";
import type { ComputedDef, ComputedMeta } from "../model/computed";
import type { MergePolicy } from "../model/profiles";
import { withSchemaTitles } from "./labels";
import { DEFAULT_POLICY, type FragmentInput, mergeFragments, type Provenance } from "./merge";
import { presentHistory, presentLink } from "./present";

export type Include = "provenance" | "events" | "segments" | "graph";
export const INCLUDES: readonly Include[] = ["provenance", "events", "segments", "graph"];

interface ReadOptions {
  mergePolicy?: string;
  include: Set<Include>;
  eventsLimit: number;
}

/** The named merge policy, or the default one when no name is given. */
export async function resolvePolicy(db: Db, name?: string): Promise<Result<MergePolicy>> {
  const row = await findMergePolicy(db, name);
  if (!row) {
    if (!name) return ok(DEFAULT_POLICY);
    return problem("invalid_request", `unknown merge policy "${name}"`, [
      { path: "mergePolicy", message: "see GET /v1/merge-policies" },
    ]);
  }
  return ok(toPolicy(row));
}

export function fragmentsOf(bundle: ProfileBundle): FragmentInput[] {
  const byId = new Map(bundle.identities.map((i) => [i.id, i]));
  return bundle.fragments.map((f) => {
    const identity = byId.get(f.identity_id)!;
    return {
      dataset: f.dataset,
      namespace: identity.namespace,
      value: identity.value,
      attributes: JSON.parse(f.attributes),
      updatedAt: f.updated_at,
    };
  });
}

/** The profile's consent, from the choices its bundle carries. */
export function bundleConsent(settings: ConsentSettings, bundle: ProfileBundle): ProfileConsent {
  const byId = new Map(bundle.identities.map((i) => [i.id, i]));
  const rows = bundle.choices.map((c) => ({
    ...c,
    profileId: bundle.profile.id,
    namespace: byId.get(c.identity_id)!.namespace,
    value: byId.get(c.identity_id)!.value,
  }));
  return consentByProfile(settings, rows)(bundle.profile.id);
}

/** Computed values' provenance: each one's name, when it was computed, and how many events it counts. */
function withComputedProvenance(
  provenance: Record<string, Provenance>,
  bundle: ProfileBundle,
  defs: readonly ComputedDef[],
): Record<string, Provenance> {
  const states = bundle.fragments
    .filter((f) => f.dataset === COMPUTED_DATASET && f.meta)
    .map((f) => (JSON.parse(f.meta!) as ComputedMeta).s ?? {});
  for (const def of defs) {
    const entry = provenance[`${COMPUTED_DATASET}.${def.id}`];
    if (entry?.dataset === COMPUTED_DATASET)
      Object.assign(entry, {
        name: def.name,
        computedAt: entry.timestamp,
        events: eventsCounted(def, states),
      });
  }
  return provenance;
}

/** With `idStitching: "none"`, only the looked-up identity's fragments count (its primary one for a profile id). */
function stitched(
  bundle: ProfileBundle,
  selector: ProfileSelector,
  policy: MergePolicy,
): FragmentInput[] {
  const all = fragmentsOf(bundle);
  if (policy.idStitching === "graph") return all;
  const own =
    "identity" in selector
      ? selector.identity
      : { namespace: bundle.profile.primary_namespace, value: bundle.profile.primary_value };
  // Computed values are the whole profile's (they count every identity's events).
  return all.filter(
    (f) =>
      f.dataset === COMPUTED_DATASET || (f.namespace === own.namespace && f.value === own.value),
  );
}

export async function readProfile(db: Db, selector: ProfileSelector, options: ReadOptions) {
  const resolved = await resolvePolicy(db, options.mergePolicy);
  if (!resolved.ok) return resolved;
  const policy = resolved.value;
  const bundle = await loadProfile(db.$client, selector, {
    events: options.include.has("events") ? options.eventsLimit : undefined,
    memberships: options.include.has("segments"),
  });
  if (!bundle) return ok(undefined);
  const merged = mergeFragments(stitched(bundle, selector, policy), policy);
  const identityById = new Map(
    bundle.identities.map((i) => [i.id, { namespace: i.namespace, id: i.value }]),
  );
  const body: Record<string, unknown> = {
    profileId: bundle.profile.id,
    displayName: bundle.profile.display_name ?? bundle.profile.primary_value,
    primaryIdentity: {
      namespace: bundle.profile.primary_namespace,
      id: bundle.profile.primary_value,
    },
    identities: bundle.identities.map((i) => ({
      namespace: i.namespace,
      id: i.value,
      firstSeen: toIso(i.first_seen),
      lastSeen: toIso(i.last_seen),
    })),
    attributes: merged.attributes,
    consent: presentConsent(bundleConsent(await consentSettings(db), bundle)),
    mergePolicy: policy.name,
  };
  if (options.include.has("provenance")) {
    const [defs, datasets] = await Promise.all([
      cachedComputedDefs(db.$client),
      cachedDatasets(db),
    ]);
    body.provenance = withSchemaTitles(
      withComputedProvenance(merged.provenance, bundle, defs),
      new Map(datasets.map((d) => [d.name, d.schema])),
    );
  }
  if (bundle.memberships) {
    body.segments = bundle.memberships.map((m) => ({
      id: m.segment_id,
      name: m.name,
      status: m.status,
      since: toIso(m.since),
    }));
  }
  if (bundle.events) {
    body.events = bundle.events.map((e) => ({
      id: e.id,
      type: e.type,
      timestamp: toIso(e.at),
      dataset: e.dataset,
      identity: identityById.get(e.identity_id),
      data: e.data ? JSON.parse(e.data) : null,
    }));
  }
  if (options.include.has("graph")) {
    const [links, history] = await Promise.all([
      linksAmong(
        db.$client,
        bundle.identities.map((i) => i.id),
      ),
      profileHistory(db.$client, bundle.profile.id, 50),
    ]);
    body.graph = {
      links: links.map((l) => presentLink(l, identityById)),
      history: history.map(presentHistory),
    };
  }
  body.updatedAt = toIso(bundle.profile.updated_at);
  const etag = `"${(await sha256Hex(JSON.stringify(body))).slice(0, 40)}"`;
  const fields = [
    ...Object.keys(merged.provenance),
    ...[...options.include].filter((i) => i !== "provenance"),
  ];
  return ok({ body, etag, profileId: bundle.profile.id, fields, bundle });
}

/** Whether an If-None-Match header matches the current ETag. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

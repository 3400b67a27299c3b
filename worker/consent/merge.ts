/**
 * Consent per purpose (SPEC §8) as plain logic: the settings that apply when none are
 * stored, the latest choice per identity and purpose, and a profile's consent — its
 * identities' choices combined by the conflict rule, the default where nobody chose.
 */

import {
  BUILT_IN_PURPOSES,
  type ConsentSettings,
  type ConsentStatus,
} from "../../shared/schemas/consent";
import type { ConsentChoice } from "../model/consent";

/** Purpose id → the choice that applies (at null: the default). */
export type ProfileConsent = Record<
  string,
  { status: ConsentStatus; at: number | null; source: string }
>;

/** Built-in purposes granted by default; `Sec-GPC: 1` denies marketing (the "do not sell or share" signal). */
export const DEFAULT_CONSENT: ConsentSettings = {
  purposes: [
    { id: "analytics", default: "granted", gpc: "ignore" },
    { id: "personalization", default: "granted", gpc: "ignore" },
    { id: "marketing", default: "granted", gpc: "deny" },
  ],
  conflict: "most-restrictive",
};

/** Stored settings with the built-in purposes they do not list. */
export function effectiveSettings(stored: ConsentSettings | undefined): ConsentSettings {
  if (!stored) return DEFAULT_CONSENT;
  const listed = new Set(stored.purposes.map((p) => p.id));
  const builtIn = DEFAULT_CONSENT.purposes.filter(
    (p) => !listed.has(p.id) && (BUILT_IN_PURPOSES as readonly string[]).includes(p.id),
  );
  return { ...stored, purposes: [...stored.purposes, ...builtIn] };
}

/** The profile's consent from its identities' latest choices (one map per identity). */
export function profileConsent(
  settings: ConsentSettings,
  choices: readonly Record<string, ConsentChoice>[],
): ProfileConsent {
  const out: ProfileConsent = {};
  for (const purpose of settings.purposes) {
    const made = choices.flatMap((c) => (c[purpose.id] ? [c[purpose.id]!] : []));
    if (made.length === 0) {
      out[purpose.id] = { status: purpose.default, at: null, source: "default" };
      continue;
    }
    const newest = (list: ConsentChoice[]) =>
      list.reduce((a, b) => (b.at > a.at || (b.at === a.at && b.status === "denied") ? b : a));
    const denials = made.filter((c) => c.status === "denied");
    // most-restrictive: any denial denies (the newest denial is shown); latest: the newest choice wins.
    out[purpose.id] =
      settings.conflict === "most-restrictive" && denials.length > 0
        ? newest(denials)
        : newest(made);
  }
  return out;
}

export const isGranted = (consent: ProfileConsent | undefined, purpose: string): boolean =>
  consent?.[purpose]?.status !== "denied";

/** Whether every one of `purposes` is granted. */
export const grantsAll = (
  consent: ProfileConsent | undefined,
  purposes: readonly string[] | undefined,
): boolean => (purposes ?? []).every((p) => isGranted(consent, p));

/** The choices `Sec-GPC: 1` stands for: a denial of every purpose configured to follow it. */
export function gpcChoices(settings: ConsentSettings): Record<string, ConsentStatus> {
  return Object.fromEntries(
    settings.purposes.filter((p) => p.gpc === "deny").map((p) => [p.id, "denied" as const]),
  );
}

/** Segment `context.consent.categoryPreferences` → purpose choices, through the settings' category map. */
export function fromCategories(
  settings: ConsentSettings,
  preferences: Record<string, unknown>,
): Record<string, ConsentStatus> {
  const out: Record<string, ConsentStatus> = {};
  for (const [category, value] of Object.entries(preferences)) {
    const purpose = settings.categories?.[category];
    if (purpose && typeof value === "boolean") out[purpose] = value ? "granted" : "denied";
  }
  return out;
}

/** A browser's `{ analytics: true, … }` (or "granted"/"denied") as choices. */
export function fromBrowser(
  raw: Record<string, boolean | ConsentStatus>,
): Record<string, ConsentStatus> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, v === true || v === "granted" ? "granted" : "denied"]),
  );
}

/** Stored choice rows (each identity's newest per purpose) → each profile's consent. */
export function consentByProfile(
  settings: ConsentSettings,
  rows: readonly {
    profileId: string;
    namespace: string;
    value: string;
    purpose: string;
    status: ConsentStatus;
    at: number;
    source: string;
  }[],
): (profileId: string) => ProfileConsent {
  const byProfile = new Map<string, Map<string, Record<string, ConsentChoice>>>();
  for (const r of rows) {
    const identities =
      byProfile.get(r.profileId) ?? new Map<string, Record<string, ConsentChoice>>();
    const key = `${r.namespace}\u0000${r.value}`;
    identities.set(key, {
      ...(identities.get(key) ?? {}),
      [r.purpose]: { status: r.status, at: r.at, source: r.source },
    });
    byProfile.set(r.profileId, identities);
  }
  return (profileId) => profileConsent(settings, [...(byProfile.get(profileId)?.values() ?? [])]);
}

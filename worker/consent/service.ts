/**
 * Consent as the routes use it (SPEC §8): the settings in force, choices a call carries
 * (the API, a browser's `consent`, `Sec-GPC: 1`, Segment's `categoryPreferences`) as
 * items for the write lane, and a profile's consent read back.
 */
import type { ConsentSettings, ConsentStatus } from "../../shared/schemas/consent";
import { getCachedSetting } from "../config/service";
import type { Db } from "../db/client";
import { deviceChoicesRead, profileChoicesRead } from "../db/queries/consent";
import type { NormalizedItem } from "../ingest/types";
import type { IdentityRef } from "../model/graph";
import { consentByProfile, effectiveSettings, type ProfileConsent } from "./merge";

export async function consentSettings(db: Db): Promise<ConsentSettings> {
  return effectiveSettings(await getCachedSetting(db, "consent"));
}

/** A consent item for the write lane (indexes below 0: never reported as a caller's item). */
function consentItem(
  index: number,
  identities: IdentityRef[],
  purposes: Record<string, ConsentStatus>,
  source: string,
  at: number,
): NormalizedItem {
  return {
    index,
    kind: "consent",
    dataset: "consent",
    identities,
    at,
    consent: { purposes, source },
  };
}

/**
 * The choices a browser call carries for its device: what the page sent (`source:
 * browser`), and `Sec-GPC: 1` as a denial of every purpose configured to follow it.
 * Empty when there are none.
 */
export function browserConsentItems(
  settings: ConsentSettings,
  device: string,
  sent: Record<string, ConsentStatus> | undefined,
  gpc: boolean,
  at: number,
): NormalizedItem[] {
  const identities = [{ namespace: "device", value: device }];
  const items: NormalizedItem[] = [];
  const known = new Set(settings.purposes.map((p) => p.id));
  const explicit = Object.fromEntries(Object.entries(sent ?? {}).filter(([p]) => known.has(p)));
  if (Object.keys(explicit).length)
    items.push(consentItem(-1, identities, explicit, "browser", at));
  if (gpc) {
    const denied = Object.fromEntries(
      settings.purposes.filter((p) => p.gpc === "deny").map((p) => [p.id, "denied" as const]),
    );
    if (Object.keys(denied).length) items.push(consentItem(-2, identities, denied, "gpc", at));
  }
  return items;
}

/** The consent of each of these profiles as stored (read from `d1`: the primary or a session), by profile id. */
export async function readConsents(
  d1: D1Database,
  settings: ConsentSettings,
  profileIds: readonly string[],
): Promise<(profileId: string) => ProfileConsent> {
  const read = profileChoicesRead(d1, profileIds);
  const rows = read.statements.length
    ? read.parse(await d1.batch<Record<string, unknown>>(read.statements as D1PreparedStatement[]))
    : [];
  return consentByProfile(settings, rows);
}

/** The consent of the profile a device belongs to (the defaults for an unknown device). */
export async function readDeviceConsent(
  d1: D1Database,
  settings: ConsentSettings,
  device: string,
): Promise<ProfileConsent> {
  const read = deviceChoicesRead(d1, device);
  const rows = read.parse(
    await d1.batch<Record<string, unknown>>(read.statements as D1PreparedStatement[]),
  );
  return consentByProfile(settings, rows)(rows[0]?.profileId ?? "");
}

export async function readProfileConsent(
  d1: D1Database,
  settings: ConsentSettings,
  profileId: string,
): Promise<ProfileConsent> {
  return (await readConsents(d1, settings, [profileId]))(profileId);
}

/** A profile's consent as answers show it (ISO times). */
export const presentConsent = (consent: ProfileConsent) =>
  Object.fromEntries(
    Object.entries(consent).map(([p, c]) => [
      p,
      {
        status: c.status,
        at: c.at === null ? null : new Date(c.at).toISOString(),
        source: c.source,
      },
    ]),
  );

/** `analytics:granted,marketing:denied` (a query parameter) as choices; undefined when absent or not in that form. */
export function parseConsentQuery(
  text: string | undefined,
): Record<string, ConsentStatus> | undefined {
  if (!text) return undefined;
  const out: Record<string, ConsentStatus> = {};
  for (const part of text.split(",")) {
    const [purpose, status] = part.split(":").map((s) => s.trim());
    if (!purpose || (status !== "granted" && status !== "denied")) return undefined;
    out[purpose] = status;
  }
  return out;
}

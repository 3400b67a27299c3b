import { z } from "zod";
import { IdentityInput, Timestamp } from "./ingest";

/** The purposes every deployment has (SPEC §8); settings may add others. */
export const BUILT_IN_PURPOSES = ["analytics", "personalization", "marketing"] as const;
export type ConsentStatus = "granted" | "denied";

const PurposeId = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, "must match [a-z][a-z0-9_-]{0,63}");

export interface PurposeSetting {
  id: string;
  default: ConsentStatus;
  gpc?: "deny" | "ignore";
}

export interface ConsentSettings {
  purposes: PurposeSetting[];
  conflict: "most-restrictive" | "latest";
  /** Tracking-API consent categories (`context.consent.categoryPreferences`) → purpose ids. */
  categories?: Record<string, string>;
}

export const ConsentSettingsBody = z
  .strictObject({
    purposes: z
      .array(
        z.strictObject({
          id: PurposeId,
          default: z.enum(["granted", "denied"]),
          gpc: z.enum(["deny", "ignore"]).optional(),
        }),
      )
      .max(20)
      .meta({
        description:
          "Purposes with their default and what `Sec-GPC: 1` does. Built-in purposes not listed keep their defaults.",
      }),
    conflict: z.enum(["most-restrictive", "latest"]).meta({
      description:
        "How a profile's identities' choices combine: any denial denies, or the newest wins.",
    }),
    categories: z.record(z.string().min(1).max(100), PurposeId).optional().meta({
      description: "Segment consent categories (`Advertising`) → purpose ids (`marketing`).",
    }),
  })
  .meta({ id: "ConsentSettings" });

export const ConsentBody = z
  .strictObject({
    identities: z.array(IdentityInput).min(1).max(20).meta({
      description:
        "Identities as for ingest (linked like an event's); the choices are recorded for each",
    }),
    purposes: z
      .record(PurposeId, z.enum(["granted", "denied"]))
      .meta({ description: "Purpose id → granted | denied" }),
    timestamp: Timestamp.optional().meta({ description: "When the choice was made; default now" }),
    source: z.string().trim().min(1).max(100).optional().meta({
      description: "Where the choice was made (`cmp`, `preference-center`); default `api`",
    }),
  })
  .meta({ id: "ConsentInput" });

/** One purpose on a profile: the status that applies, when and where it was given (`default`: never asked). */
const ConsentEntry = z.object({
  status: z.enum(["granted", "denied"]),
  at: z.string().nullable(),
  source: z.string(),
});
export const ProfileConsent = z.record(z.string(), ConsentEntry).meta({ id: "ProfileConsent" });

/** What a browser may send along (`/v1/collect`, `/v1/context`): the widget's `setConsent`. */
export const BrowserConsent = z.record(
  PurposeId,
  z.union([z.boolean(), z.enum(["granted", "denied"])]),
);

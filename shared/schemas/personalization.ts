import { z } from "zod";
import { BrowserConsent } from "./consent";
import { eventTypeString } from "./ingest";

export const PersonalizationSettings = z
  .object({
    attributes: z
      .array(z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "a dotted attribute path"))
      .max(100),
  })
  .meta({ id: "PersonalizationSettings" });

export const CollectSettings = z
  .object({
    types: z
      .array(eventTypeString("an event type: 1–200 characters of printable text"))
      .min(1)
      .max(100),
  })
  .meta({ id: "CollectSettings" });

export const DEFAULT_COLLECT_TYPES = ["page.view", "click", "form.submit"];

export const ContextSchema = z
  .object({
    device: z.string(),
    known: z.boolean(),
    segments: z.array(z.string()),
    attributes: z.record(z.string(), z.unknown()),
    consent: z
      .record(z.string(), z.enum(["granted", "denied"]))
      .optional()
      .meta({
        description:
          "The visitor's consent per purpose, when a purpose is denied or a choice is on record (the widget sends no page view when analytics is denied)",
      }),
  })
  .meta({ id: "VisitorContext" });

/** Browser events: type, time and data only — never identities or attributes. */
export const CollectBody = z
  .strictObject({
    events: z
      .array(
        z.strictObject({
          type: z.string(),
          timestamp: z.string().optional(),
          data: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .max(50),
    consent: BrowserConsent.optional().meta({
      description:
        "The visitor's choices (`tessera.setConsent()`): `{ analytics: true, marketing: false }`, recorded before the events",
    }),
  })
  .refine((b) => b.events.length > 0 || b.consent !== undefined, {
    message: "send at least one event, or consent",
    path: ["events"],
  })
  .meta({ id: "CollectBody" });

export const TokenBody = z
  .object({
    scopes: z.array(z.string()).min(1),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(24 * 3600)
      .default(900),
    identity: z.object({ namespace: z.string(), id: z.string() }).optional(),
  })
  .meta({ id: "TokenInput" });

import { z } from "zod";
import { pageLimit } from "./common";
import { ProfileConsent } from "./consent";

const Identity = z.object({ namespace: z.string(), id: z.string() });
const ProvenanceEntry = z.object({
  dataset: z.string(),
  identity: Identity,
  timestamp: z.string(),
  name: z.string().optional().meta({
    description:
      "The attribute's label: a computed attribute's name, or the `title` its dataset's JSON Schema gives the property.",
  }),
  computedAt: z
    .string()
    .optional()
    .meta({ description: "Computed attributes: when the value was last computed." }),
  events: z
    .number()
    .int()
    .optional()
    .meta({ description: "Computed attributes: how many events the value counts." }),
});

export const ProfileSchema = z
  .object({
    profileId: z.string(),
    displayName: z.string(),
    primaryIdentity: Identity,
    identities: z.array(Identity.extend({ firstSeen: z.string(), lastSeen: z.string() })),
    attributes: z.record(z.string(), z.unknown()),
    consent: ProfileConsent.optional().meta({
      description:
        "Per purpose: the status that applies, when and where it was given (source `default`: nobody chose)",
    }),
    mergePolicy: z.string(),
    provenance: z.record(z.string(), ProvenanceEntry).optional(),
    segments: z
      .array(z.object({ id: z.string(), name: z.string(), status: z.string(), since: z.string() }))
      .optional(),
    events: z
      .array(
        z.object({
          id: z.string(),
          type: z.string(),
          timestamp: z.string(),
          dataset: z.string(),
          identity: Identity.optional(),
          data: z.unknown(),
        }),
      )
      .optional(),
    graph: z.object({ links: z.array(z.unknown()), history: z.array(z.unknown()) }).optional(),
    updatedAt: z.string(),
  })
  .meta({ id: "Profile" });

export const ProfileQuery = z.object({
  mergePolicy: z
    .string()
    .optional()
    .meta({ description: "A merge policy name; the default policy when absent." }),
  include: z.string().optional().meta({
    description: "Comma list: provenance, events, segments, graph.",
    example: "provenance,events",
  }),
  "events.limit": pageLimit(20, 200).meta({
    description: "Events to include (default 20, at most 200).",
  }),
});

export const SearchItem = z
  .object({
    profileId: z.string(),
    displayName: z.string(),
    primaryIdentity: Identity,
    updatedAt: z.string(),
  })
  .meta({ id: "ProfileSearchItem" });

export const TimelineEvent = z
  .object({
    id: z.string(),
    type: z.string(),
    timestamp: z.string(),
    dataset: z.string(),
    identity: Identity,
    data: z.unknown(),
  })
  .meta({ id: "TimelineEvent" });

export const EraseReceiptSchema = z
  .object({
    profileId: z.string(),
    erased: z.object({ identities: z.number(), fragments: z.number(), events: z.number() }),
    suppressed: z.boolean(),
  })
  .meta({ id: "EraseReceipt" });

export const MergePolicyBody = z
  .object({
    type: z.enum(["timestamp", "dataset-precedence"]),
    datasets: z.array(z.string()).max(50).default([]),
    idStitching: z.enum(["graph", "none"]).default("graph"),
    default: z.boolean().optional(),
  })
  .meta({ id: "MergePolicyInput" });

export const MergePolicySchema = z
  .object({
    name: z.string(),
    type: z.string(),
    datasets: z.array(z.string()),
    idStitching: z.string(),
    default: z.boolean(),
  })
  .meta({ id: "MergePolicy" });

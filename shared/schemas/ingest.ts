import { z } from "zod";
import { NAME_PATTERN } from "./common";

/** SPEC §2 ingest limits. */
export const INGEST_LIMITS = {
  itemsPerCall: 1000,
  identitiesPerItem: 50,
  attributeDepth: 8,
  itemBytes: 32 * 1024,
  /** Timestamps may be at most this far in the future. */
  futureMs: 24 * 60 * 60 * 1000,
} as const;

export const IdentityInput = z
  .object({
    namespace: z.string().regex(NAME_PATTERN, "namespace must match [a-z][a-z0-9_-]{0,63}"),
    id: z.union([z.string(), z.number()]).transform(String),
  })
  .meta({ id: "Identity", example: { namespace: "email", id: "john.greene@luma.com" } });

/**
 * Event types (SPEC §2): 1–200 characters of printable text. Spaces and `$` are fine
 * (`Order Completed`, `$pageview`); control, invisible formatting, line/paragraph separator
 * characters and lone surrogates are not.
 */
const EVENT_TYPE_PATTERN = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]{1,200}$/u;

/**
 * An event type string. The OpenAPI generator writes a pattern from the regex's
 * `toString()`, which keeps a `u` flag as a literal "/u" at the end; the pattern is given
 * here as its source (JSON Schema patterns are Unicode-aware already).
 */
export const eventTypeString = (message: string) =>
  z.string().regex(EVENT_TYPE_PATTERN, message).meta({ pattern: EVENT_TYPE_PATTERN.source });

export const Timestamp = z.iso.datetime({
  offset: true,
  message: "timestamp must be an ISO-8601 date-time",
});
const Attributes = z.record(z.string(), z.unknown());

export const EventInput = z
  .object({
    id: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: "Idempotency key; generated when absent." }),
    type: eventTypeString(
      "type must be 1–200 characters of printable text (no control or invisible formatting characters)",
    ).meta({ example: "Order Completed" }),
    timestamp: Timestamp.optional(),
    dataset: z.string().optional(),
    identities: z.array(IdentityInput).min(1, "an event needs at least one identity"),
    data: Attributes.optional(),
  })
  .meta({ id: "Event" });

export const RecordInput = z
  .object({
    dataset: z.string(),
    identities: z.array(IdentityInput).min(1, "a record needs at least one identity"),
    attributes: Attributes,
    timestamp: Timestamp.optional(),
  })
  .meta({ id: "Record" });

export type EventInput = z.infer<typeof EventInput>;
export type RecordInput = z.infer<typeof RecordInput>;

const ItemError = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** What a change does to identity graphs (SPEC §9): the shape of dry runs and simulations. */
export const GraphEffectSchema = z
  .object({
    profilesAffected: z.number().int(),
    graphsChanged: z
      .number()
      .int()
      .meta({ description: "Existing profiles (graphs) the change alters" }),
    merges: z.array(
      z.object({
        into: z.string(),
        profiles: z.array(z.string()),
        identities: z.array(z.string()),
      }),
    ),
    splits: z.array(
      z.object({ from: z.string(), into: z.string(), identities: z.array(z.string()) }),
    ),
    moves: z.array(z.object({ from: z.string(), to: z.string(), identities: z.array(z.string()) })),
    evictions: z.array(
      z.object({ from: z.string(), into: z.string(), identities: z.array(z.string()) }),
    ),
    segmentChanges: z.array(
      z.object({ profileId: z.string(), segment: z.string(), from: z.string(), to: z.string() }),
    ),
    sample: z.array(
      z.object({
        before: z.object({ profileId: z.string(), identities: z.array(z.string()) }),
        after: z.array(
          z.object({ profileId: z.string().optional(), identities: z.array(z.string()) }),
        ),
      }),
    ),
    truncated: z.boolean(),
  })
  .meta({ id: "GraphEffect" });

export const IngestResult = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.array(z.object({ index: z.number().int(), error: ItemError })),
    profiles: z.array(z.string()),
    dryRun: z.literal(true).optional().meta({
      description:
        "`?dryRun=true`: nothing was stored; `profiles` are what the call would have touched",
    }),
    graph: GraphEffectSchema.optional().meta({
      description: "`?dryRun=true`: what the call would do to identity graphs",
    }),
  })
  .meta({ id: "IngestResult" });

export type IngestResult = z.infer<typeof IngestResult>;

/**
 * The route-level bodies: one item, or `{ events: [...] }` / `{ records: [...] }`. The
 * zod schemas type the typed client; the OpenAPI schema objects document them. The
 * Worker reads these bodies itself and checks item by item (bad items never sink good
 * ones), so no zod validator runs on them as a whole.
 */
export const EventsBody = z.union([
  EventInput,
  z.object({ events: z.array(EventInput).min(1).max(INGEST_LIMITS.itemsPerCall) }),
]);
export const RecordsBody = z.union([
  RecordInput,
  z.object({ records: z.array(RecordInput).min(1).max(INGEST_LIMITS.itemsPerCall) }),
]);
export type EventsBody = z.input<typeof EventsBody>;
export type RecordsBody = z.input<typeof RecordsBody>;

function listBodySchema(item: "Event" | "Record", list: "events" | "records") {
  const ref = { $ref: `#/components/schemas/${item}` };
  return {
    description: `One ${item}, or \`{ "${list}": [${item}, …] }\` with at most ${INGEST_LIMITS.itemsPerCall.toLocaleString("en")} ${list}.`,
    oneOf: [
      ref,
      {
        type: "object" as const,
        required: [list],
        properties: {
          [list]: {
            type: "array" as const,
            minItems: 1,
            maxItems: INGEST_LIMITS.itemsPerCall,
            items: ref,
          },
        },
      },
    ],
  };
}
export const EventsBodySchema = listBodySchema("Event", "events");
export const RecordsBodySchema = listBodySchema("Record", "records");

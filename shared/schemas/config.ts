import { z } from "zod";
import { NORMALIZE_RULES } from "../identity/normalize";

export const DatasetBody = z
  .object({
    kind: z.enum(["records", "events", "any"]).meta({
      description: "`any` takes records and events (like `default`; e.g. a tracking API dataset).",
    }),
    schema: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .meta({ description: "JSON Schema 2020-12 for attributes (records) or data (events)." }),
    description: z.string().max(1000).nullable().optional(),
    ttlDays: z.number().int().min(1).max(36500).nullable().optional().meta({
      description:
        "Events older than this many days (by their timestamp) are removed by retention (events and any datasets). Null keeps them.",
    }),
  })
  .meta({ id: "DatasetInput" });

export const DatasetSchema = z
  .object({
    name: z.string(),
    kind: z.enum(["records", "events", "any"]),
    schema: z.record(z.string(), z.unknown()).nullable(),
    description: z.string().nullable(),
    ttlDays: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Dataset" });

export const NamespaceBody = z
  .object({
    normalize: z.enum(NORMALIZE_RULES as [string, ...string[]]).default("trim"),
    unique: z.boolean().default(false),
    priority: z.number().int().min(0).max(1000).default(0),
    maxPerGraph: z.number().int().min(1).max(1000).nullable().optional(),
    blockedValues: z.array(z.string().max(200)).max(200).optional(),
    description: z.string().max(500).nullable().optional(),
    pseudonymous: z.boolean().optional().meta({
      description:
        "Identifiers of a device or browser, not a person (device is): profiles with only such identities expire under the retention settings. Default: unchanged, false for a new namespace.",
    }),
  })
  .meta({ id: "NamespaceInput" });

export const NamespaceSchema = z
  .object({
    code: z.string(),
    normalize: z.string(),
    unique: z.boolean(),
    priority: z.number(),
    maxPerGraph: z.number().nullable(),
    blockedValues: z.array(z.string()),
    builtIn: z.boolean(),
    pseudonymous: z.boolean(),
    description: z.string().nullable(),
  })
  .meta({ id: "Namespace" });

export const RetentionBody = z
  .strictObject({
    pseudonymousProfileDays: z.number().int().min(1).max(36500).nullable().optional().meta({
      description:
        "Profiles whose identities are all pseudonymous and that saw no activity for this many days are deleted with their data. Null: never.",
    }),
    archiveDestination: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,63}$/, "a destination name")
      .nullable()
      .optional()
      .meta({
        description:
          "An r2, s3 or azure destination: expired events are written there as Parquet before they are removed.",
      }),
  })
  .meta({
    id: "RetentionSettings",
    example: { pseudonymousProfileDays: 90, archiveDestination: "lake" },
  });
export type RetentionSettings = z.infer<typeof RetentionBody>;

export const MaintenanceRunSchema = z
  .object({
    runId: z.string(),
    status: z.enum(["queued", "running", "completed", "failed"]),
    trigger: z.string(),
    eventsExpired: z.number(),
    eventsArchived: z.number(),
    profilesExpired: z.number(),
    parts: z.array(
      z.object({ path: z.string(), rows: z.number(), bytes: z.number(), sha256: z.string() }),
    ),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: "MaintenanceRun" });

const IdentityOut = z.object({ namespace: z.string(), id: z.string() });

const GraphLink = z.object({
  from: IdentityOut,
  to: IdentityOut,
  dataset: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  applied: z.boolean(),
});

export const GraphSchema = z
  .object({
    profileId: z.string(),
    identities: z.array(IdentityOut.extend({ firstSeen: z.string(), lastSeen: z.string() })),
    links: z.array(GraphLink),
    refusedLinks: z
      .array(GraphLink.extend({ applied: z.literal(false), otherProfileId: z.string() }))
      .meta({
        description:
          "Links a cap kept but did not apply between this profile's identities and another profile's (its id in otherProfileId), newest first, at most 200",
      }),
    history: z.array(
      z.object({
        at: z.string(),
        kind: z.enum(["merge", "split", "move", "evict", "delete"]),
        cause: z.string(),
        identities: z.array(IdentityOut),
        profiles: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: "IdentityGraph" });

export const GraphChangeSchema = z
  .object({
    profileId: z.string().meta({ description: "The profile it belonged to." }),
    profiles: z.array(z.string()).meta({ description: "The profiles that graph is now." }),
  })
  .meta({ id: "GraphChange" });

/** A proposed identity configuration (SPEC §9): namespace settings by code, and the graph cap. */
export const ConfigProposalBody = z
  .strictObject({
    namespaces: z
      .record(
        z.string(),
        z.strictObject({
          unique: z.boolean().optional(),
          priority: z.number().int().min(0).max(1000).optional(),
          maxPerGraph: z.number().int().min(1).max(1000).nullable().optional(),
          blockedValues: z.array(z.string().max(200)).max(200).optional(),
        }),
      )
      .optional(),
    maxIdentities: z.number().int().min(2).max(1000).optional(),
  })
  .meta({ id: "ConfigProposal" });

export const GraphSettingsBody = z
  .strictObject({
    maxIdentities: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .meta({ description: "Identities one profile may hold (default 50)" }),
  })
  .meta({ id: "GraphSettings" });

export const GraphRunSchema = z
  .object({
    runId: z.string(),
    kind: z.enum(["apply", "revert"]),
    status: z.enum(["running", "completed"]),
    change: z
      .record(z.string(), z.unknown())
      .meta({ description: "{ target: namespace | graph, code?, previous, next }" }),
    graphsChecked: z.number().int(),
    merges: z.number().int(),
    splits: z.number().int(),
    moves: z.number().int(),
    evictions: z.number().int(),
    reverts: z.string().optional().meta({ description: "The run this one reverts" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "GraphRun" });

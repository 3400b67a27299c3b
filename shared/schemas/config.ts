import { z } from "zod";
import { NORMALIZE_RULES } from "../identity/normalize";

export const DatasetBody = z
  .object({
    kind: z.enum(["records", "events", "any"]).meta({ description: "`any` takes records and events (like `default`; e.g. a tracking API dataset)." }),
    schema: z.record(z.string(), z.unknown()).nullable().optional().meta({ description: "JSON Schema 2020-12 for attributes (records) or data (events)." }),
    description: z.string().max(1000).nullable().optional(),
  })
  .meta({ id: "DatasetInput" });

export const DatasetSchema = z
  .object({
    name: z.string(),
    kind: z.enum(["records", "events", "any"]),
    schema: z.record(z.string(), z.unknown()).nullable(),
    description: z.string().nullable(),
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
    description: z.string().nullable(),
  })
  .meta({ id: "Namespace" });

const IdentityOut = z.object({ namespace: z.string(), id: z.string() });

export const GraphSchema = z
  .object({
    profileId: z.string(),
    identities: z.array(IdentityOut.extend({ firstSeen: z.string(), lastSeen: z.string() })),
    links: z.array(
      z.object({ from: IdentityOut, to: IdentityOut, dataset: z.string(), firstSeen: z.string(), lastSeen: z.string(), applied: z.boolean() }),
    ),
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

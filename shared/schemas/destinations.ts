import { z } from "zod";

const SecretName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "the name of a Worker secret, like S3_SECRET_ACCESS_KEY");
/** Consent purposes a destination declares (SPEC §8). */
const ConsentPurposes = z
  .array(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/))
  .max(20)
  .optional()
  .meta({ description: "Consent purposes a profile must have granted to be sent here (SPEC §8)" });
const AttrPath = z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "a dotted attribute path");

export const DestinationBody = z
  .object({
    type: z.enum(["r2", "s3", "azure"]),
    bucket: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .meta({ description: "S3 bucket (r2: the bound bucket is used)" }),
    prefix: z.string().max(500).default(""),
    endpoint: z.url().optional().meta({
      description:
        "S3-compatible endpoint, e.g. https://s3.eu-west-1.amazonaws.com or https://storage.googleapis.com",
    }),
    region: z.string().max(50).default("auto"),
    segment: z.string().optional(),
    attributes: z
      .array(AttrPath)
      .max(200)
      .optional()
      .meta({ description: "Only these attribute paths (default: all)" }),
    schedule: z.enum(["hourly", "daily", "manual"]),
    format: z
      .enum(["ndjson", "parquet"])
      .default("ndjson")
      .meta({ description: "gzip NDJSON parts, or Parquet parts with typed columns" }),
    content: z.enum(["profiles", "events", "identities"]).default("profiles").meta({
      description:
        "merged profiles, experience events, or the identity map (namespace, id, profileId, firstSeen, lastSeen)",
    }),
    mode: z
      .enum(["full", "incremental"])
      .default("full")
      .meta({ description: "incremental: only what changed since the last completed run" }),
    mergePolicy: z.string().optional(),
    includeNoConsent: z.boolean().default(false).meta({
      description:
        'Include profiles that denied marketing (consent, or the older consent.marketing = "n" attribute)',
    }),
    purposes: ConsentPurposes,
    credentials: z
      .object({
        accessKeyId: SecretName.optional(),
        secretAccessKey: SecretName.optional(),
        sasUrl: SecretName.optional(),
      })
      .optional()
      .meta({
        description:
          "Names of Worker secrets holding the credentials; values are never stored or returned",
      }),
  })
  .superRefine((d, ctx) => {
    if (d.type === "s3") {
      if (!d.bucket)
        ctx.addIssue({
          code: "custom",
          path: ["bucket"],
          message: "an s3 destination needs a bucket",
        });
      if (!d.endpoint)
        ctx.addIssue({
          code: "custom",
          path: ["endpoint"],
          message: "an s3 destination needs an endpoint",
        });
      if (!d.credentials?.accessKeyId || !d.credentials?.secretAccessKey) {
        ctx.addIssue({
          code: "custom",
          path: ["credentials"],
          message: "an s3 destination names the secrets with accessKeyId and secretAccessKey",
        });
      }
    }
    if (d.type === "azure" && !d.credentials?.sasUrl) {
      ctx.addIssue({
        code: "custom",
        path: ["credentials", "sasUrl"],
        message: "an azure destination names the secret holding a container SAS URL",
      });
    }
  })
  .meta({ id: "DestinationInput" });

export type DestinationConfig = z.infer<typeof DestinationBody>;

/** What a webhook destination can subscribe to (SPEC §5 Webhook destinations). */
export const WEBHOOK_EVENTS = [
  "segment.entered",
  "segment.exited",
  "profile.merged",
  "profile.split",
  "profile.erased",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const WebhookDestinationBody = z
  .object({
    type: z.literal("webhook"),
    url: z.string().url().max(2000).meta({
      description:
        "https:// and not a private, loopback or link-local address (unless TESSERA_WEBHOOK_ALLOW_INSECURE is set)",
    }),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
    segments: z
      .array(z.string())
      .max(200)
      .optional()
      .meta({ description: "Only these segments' entries and exits (default: all)" }),
    purposes: ConsentPurposes,
    attributes: z
      .array(AttrPath)
      .max(200)
      .optional()
      .meta({ description: "Attribute paths sent with each delivery (default: none)" }),
    batchSize: z.number().int().min(1).max(100).optional().meta({
      description:
        "Up to this many events per POST, as a JSON array (default 1: one event per POST)",
    }),
    paused: z
      .boolean()
      .optional()
      .meta({ description: "Hold deliveries (kept pending) until set back to false" }),
  })
  .meta({ id: "WebhookDestinationInput" });

export type WebhookDestinationConfig = z.infer<typeof WebhookDestinationBody> & {
  secretVersion?: number;
};

export const RunSchema = z
  .object({
    runId: z.string(),
    destination: z.string(),
    status: z.enum(["queued", "running", "completed", "failed"]),
    trigger: z.string(),
    profiles: z
      .number()
      .meta({ description: "Rows written (kept under this name for compatibility; see rows)" }),
    rows: z.number(),
    content: z.enum(["profiles", "events", "identities"]),
    format: z.enum(["ndjson", "parquet"]),
    mode: z.enum(["full", "incremental"]),
    manifest: z.string().nullable().meta({ description: "The key of the run's manifest.json" }),
    parts: z.array(
      z.object({
        name: z.string(),
        path: z.string().optional(),
        rows: z.number(),
        bytes: z.number(),
        sha256: z.string(),
      }),
    ),
    error: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: "ExportRun" });

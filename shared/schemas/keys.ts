import { z } from "zod";
import { SCOPES } from "../scopes";
import { ResourceName } from "./common";

const ScopeSchema = z.enum(SCOPES);

const Origin = z
  .string()
  .regex(
    /^https?:\/\/[^/\s]+$/,
    "must be an origin like https://shop.example (scheme and host, no path)",
  );

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    kind: z.enum(["secret", "public"]).default("secret"),
    scopes: z.array(ScopeSchema).max(SCOPES.length).default([]),
    origins: z.array(Origin).max(50).optional(),
    tracking: z
      .object({
        userIdNamespace: ResourceName.optional().meta({
          description: "Namespace of Segment `userId`s sent with this key (default `crm`).",
        }),
        dataset: ResourceName.optional().meta({
          description: "Dataset that tracking records and events go to (default `default`).",
        }),
      })
      .optional()
      .meta({
        description: "How the tracking API (Segment / RudderStack calls) maps this key's messages.",
      }),
  })
  .superRefine((body, ctx) => {
    if (body.kind === "secret" && body.scopes.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["scopes"],
        message: "a secret key needs at least one scope",
      });
    }
    if (body.kind === "public" && (!body.origins || body.origins.length === 0)) {
      ctx.addIssue({
        code: "custom",
        path: ["origins"],
        message: "a public key needs the origins it may be used from",
      });
    }
    if (body.kind === "public" && body.scopes.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["scopes"],
        message: "a public key has no scopes: it can only call /v1/context and /v1/collect",
      });
    }
  })
  .meta({ id: "CreateKey" });

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(["secret", "public"]),
    scopes: z.array(ScopeSchema),
    origins: z.array(z.string()),
    tracking: z.object({ userIdNamespace: z.string(), dataset: z.string() }),
    keyPrefix: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: "ApiKey" });

export const CreatedKeySchema = ApiKeySchema.extend({
  key: z.string().meta({ description: "The key itself. Shown once; only its hash is stored." }),
  siteSecret: z
    .string()
    .optional()
    .meta({ description: "Public keys only: signs identity tokens (HS256). Shown once." }),
}).meta({ id: "CreatedKey" });

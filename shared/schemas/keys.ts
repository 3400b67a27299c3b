import { z } from "zod";
import { SCOPES } from "../scopes";

export const ScopeSchema = z.enum(SCOPES);

const Origin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, "must be an origin like https://shop.example (scheme and host, no path)");

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    kind: z.enum(["secret", "public"]).default("secret"),
    scopes: z.array(ScopeSchema).max(SCOPES.length).default([]),
    origins: z.array(Origin).max(50).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.kind === "secret" && body.scopes.length === 0) {
      ctx.addIssue({ code: "custom", path: ["scopes"], message: "a secret key needs at least one scope" });
    }
    if (body.kind === "public" && (!body.origins || body.origins.length === 0)) {
      ctx.addIssue({ code: "custom", path: ["origins"], message: "a public key needs the origins it may be used from" });
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

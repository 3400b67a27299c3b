import { z } from "zod";
import { ERROR_CODES, ERROR_MEANINGS, ERROR_STATUS } from "../errors";

/** The closed list of error codes (SPEC §2); each answers with one HTTP status. */
const ErrorCodeSchema = z.enum(ERROR_CODES).meta({
  id: "ErrorCode",
  description: `Every code and its status: ${ERROR_CODES.map((code) => `\`${code}\` ${ERROR_STATUS[code]}`).join(", ")}. What each means: /docs#error-codes.`,
  // Each code's meaning, as Redocly and other renderers show enum values.
  "x-enumDescriptions": ERROR_MEANINGS,
  example: "invalid_identity",
});

/** The error body (SPEC §2), for the OpenAPI document. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({
    id: "Error",
    example: {
      error: {
        code: "invalid_identity",
        message: '"not-an-email" is not a valid email (email)',
        details: [
          { path: "identities[0].id", message: '"not-an-email" is not a valid email (email)' },
        ],
        requestId: "0b7f5c1e-5d0a-4a51-9f38-2f1f6f3c1a9e",
      },
    },
  });

/** `[a-z][a-z0-9_-]{0,63}`: namespace codes and dataset names (SPEC limits). */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const ResourceName = z.string().regex(NAME_PATTERN, "must match [a-z][a-z0-9_-]{0,63}");

/** A time query parameter (read with Date.parse; ISO-8601 is what clients should send). */
/** The path parameters naming one identity: `/…/:namespace/:id` (the value as sent). */
export const IdentityParams = z.object({ namespace: z.string(), id: z.string() });

export const TimeQuery = z
  .string()
  .optional()
  .meta({ format: "date-time", example: "2026-11-01T00:00:00Z" });

/** A page size query parameter: an integer in 1…max, `fallback` when absent. */
export function pageLimit(fallback: number, max: number) {
  return z.coerce
    .number<string>()
    .int("must be a whole number")
    .min(1, `must be 1–${max}`)
    .max(max, `must be 1–${max}`)
    .default(fallback)
    .meta({ description: `Page size, 1–${max} (default ${fallback}).`, example: fallback });
}

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

import { z } from "zod";
import { ErrorSchema } from "../../shared/schemas/common";

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input",
  401: "Missing or invalid API key",
  403: "Wrong scope or origin",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  415: "Wrong content type",
  422: "Schema violation",
  429: "Rate limited",
  500: "Server fault (retry later)",
};

/** OpenAPI response entries for the error statuses a route can answer. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? "Error",
        content: { "application/json": { schema: ErrorSchema } },
      },
    ]),
  ) as Record<
    number,
    { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }
  >;
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/**
 * A request body the handler reads and checks itself — item by item, so one bad item
 * never sinks the good ones beside it (ingest), or whatever its Content-Type (the tracking
 * API). It is documented by `jsonSchema` and typed by `schema` for the typed client, but
 * no validator runs on it as a whole: `@hono/zod-openapi` only validates zod schemas, and
 * the value here is the plain OpenAPI schema object.
 */
export function selfCheckedBody<T extends z.ZodType>(
  _schema: T,
  jsonSchema: object,
  example?: unknown,
) {
  return {
    required: true,
    content: {
      "application/json": {
        schema: jsonSchema as unknown as T,
        ...(example === undefined ? {} : { example }),
      },
    },
  } as const;
}

/** A boolean query parameter (`?atomic=true`): documented as a boolean, read as one. */
export const BooleanQuery = z
  .enum(["true", "false"], { error: "must be true or false" })
  .transform((value) => value === "true")
  .meta({ type: "boolean" });

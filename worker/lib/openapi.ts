import type { z } from "zod";
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
  ) as Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }>;
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

import type { Hook } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { formatPath, type ErrorDetail } from "../../shared/errors";
import { ApiError } from "./errors";

export function zodDetails(error: ZodError, prefix: readonly PropertyKey[] = []): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]),
    message: issue.message,
  }));
}

/**
 * The one hook that turns any request-validation failure (body, query, path, header)
 * into the spec's error shape. Every router gets it through `createRouter()`.
 */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (!result.success) {
    throw new ApiError("invalid_request", "The request is not valid.", {
      details: zodDetails(result.error as ZodError),
    });
  }
};

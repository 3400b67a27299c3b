import { HTTPException } from "hono/http-exception";
import {
  ERROR_STATUS,
  type ErrorBody,
  type ErrorCode,
  type ErrorDetail,
} from "../../shared/errors";
import type { Result } from "./result";

export { ERROR_STATUS, type ErrorCode };

/** An error that knows its code, status and optional per-field details. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details?: ErrorDetail[];
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(ERROR_STATUS[code], { message });
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function errorBody(
  code: ErrorCode,
  message: string,
  details?: ErrorDetail[],
  requestId?: string,
): ErrorBody {
  return {
    error: {
      code,
      message,
      ...(details && details.length > 0 ? { details } : {}),
      ...(requestId ? { requestId } : {}),
    },
  };
}

/** Codes for HTTPExceptions thrown by Hono's own middleware (body limit, JSON parsing…). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 422:
      return "schema_violation";
    case 429:
      return "rate_limited";
    default:
      return "internal_error";
  }
}

/** The value of a domain Result, or the spec's error answer for its Problem (routes use this). */
export function orFail<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(
    result.problem.code,
    result.problem.message,
    result.problem.details ? { details: result.problem.details } : {},
  );
}

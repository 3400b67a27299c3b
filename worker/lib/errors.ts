import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody, ErrorDetail } from "../../shared/errors";

/**
 * The closed vocabulary of error codes and the HTTP status each one answers with.
 * Item-level ingest rejections use the same codes, so a rejected item and a failed
 * call read the same.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_identity: 400,
  blocked_identity: 400,
  suppressed_identity: 400,
  invalid_timestamp: 400,
  invalid_name: 400,
  too_many_identities: 400,
  attribute_too_deep: 400,
  invalid_attribute: 400,
  invalid_number: 400,
  unknown_dataset: 400,
  unknown_namespace: 400,
  wrong_dataset_kind: 400,
  type_not_allowed: 400,
  unauthorized: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  identity_not_verified: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  item_too_large: 413,
  too_many_items: 413,
  unsupported_media_type: 415,
  schema_violation: 422,
  rate_limited: 429,
  internal_error: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

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
  code: string,
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

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
} as const satisfies Record<
  string,
  400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500
>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The one error body every failing request answers with (SPEC §2). */
export interface ErrorDetail {
  /** Where in the input the problem is, e.g. `identities[0].id` or `events[3].timestamp`. */
  path: string;
  message: string;
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: ErrorDetail[];
    requestId?: string;
  };
}

/** Formats a property path like `["identities", 0, "id"]` as `identities[0].id`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

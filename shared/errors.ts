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
  invalid_row: 400,
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
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** What each code means and what to do about it: the reference at /docs#error-codes lists them. */
export const ERROR_MEANINGS: Record<ErrorCode, string> = {
  invalid_request:
    "The request does not match what the route takes: a missing or misspelled field, an unknown query parameter, a value out of range. `details` names each field.",
  invalid_json:
    "The body is not valid JSON (or not valid gzip when sent with Content-Encoding: gzip).",
  invalid_identity:
    "An identity value is not valid for its namespace (an e-mail without @, a phone number that cannot be normalized, an id too long).",
  blocked_identity:
    "An identity value is on its namespace's block list (a placeholder such as test@test.com); the item is refused so it cannot merge strangers.",
  suppressed_identity: "The identity was erased with suppression: Tessera refuses new data for it.",
  invalid_timestamp: "A timestamp is not ISO-8601, or lies before 1970 or more than a day ahead.",
  invalid_name: "A name (event type, dataset, namespace, attribute key) breaks the naming rules.",
  too_many_identities: "An item names more identities than the limit (SPEC §2).",
  attribute_too_deep: "Attributes are nested deeper than the limit.",
  invalid_attribute:
    "An attribute cannot be stored as sent: a reserved key, text that is not valid Unicode, or not a JSON value.",
  invalid_number:
    "A number cannot be stored exactly as sent (too many digits, beyond ±2^53); send it as a string.",
  unknown_dataset: "The named dataset does not exist: create it with PUT /v1/datasets/:name.",
  unknown_namespace:
    "The named identity namespace does not exist: create it with PUT /v1/namespaces/:code.",
  wrong_dataset_kind:
    "Records sent to an events dataset or events to a records dataset (one error for the whole file in a batch).",
  type_not_allowed:
    "A browser sent an event type the site has not allowed (PUT /v1/settings/collect).",
  invalid_row:
    "A row of a batch file could not be read (CSV or NDJSON syntax); listed in the batch's errors.",
  unauthorized: "No key, or a key or token that is not valid (unknown, revoked or expired).",
  forbidden: "The key is valid but lacks the scope this route needs.",
  origin_not_allowed: "A public key was used from an origin it is not limited to.",
  identity_not_verified:
    "A browser message names a person without a valid signed identity token (or names another person than the token's).",
  not_found: "No such resource (profile, identity, segment, destination, run…).",
  method_not_allowed: "The path exists, but not with this HTTP method.",
  conflict:
    "The request conflicts with the current state (a run already under way, a test delivery to a file destination, a change while another is applied).",
  payload_too_large: "The body is larger than the route accepts.",
  item_too_large:
    "One item of a batch is larger than the per-item limit; the other items are processed.",
  too_many_items: "A call carries more items than the limit.",
  unsupported_media_type: "The Content-Type or Content-Encoding is not one the route accepts.",
  schema_violation: "An item does not match its dataset's JSON Schema; `details` names each field.",
  rate_limited:
    "Too many requests (or reports at once) for this key or device: retry after Retry-After seconds.",
  internal_error: "Tessera failed; the request id in the answer finds it in the logs.",
};

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

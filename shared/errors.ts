/** The one error body every failing request answers with (SPEC §2). */
export interface ErrorDetail {
  /** Where in the input the problem is, e.g. `identities[0].id` or `events[3].timestamp`. */
  path: string;
  message: string;
}

export interface ErrorBody {
  error: {
    code: string;
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

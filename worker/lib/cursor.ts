import { ApiError } from "./errors";

/** Opaque list cursors: base64url JSON, validated on the way back in. */
export function encodeCursor(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: any) => v is T): T | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (check(value)) return value;
  } catch {
    // fall through
  }
  throw new ApiError("invalid_request", "the cursor is not valid", { details: [{ path: "cursor", message: "use nextCursor from a previous page" }] });
}

export function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ApiError("invalid_request", `limit must be 1–${max}`, { details: [{ path: "limit", message: `1–${max}` }] });
  }
  return n;
}

export function parseTime(raw: string | undefined, path: string): number | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms)) throw new ApiError("invalid_request", `${path} must be an ISO-8601 time`, { details: [{ path, message: raw }] });
  return ms;
}

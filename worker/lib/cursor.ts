import { base64urlToText, textToBase64url } from "../../shared/base64url";
import { ApiError } from "./errors";

/** Opaque list cursors: base64url of UTF-8 JSON (ids may be any text), validated on the way back in. */
function encodeCursor(value: unknown): string {
  return textToBase64url(JSON.stringify(value));
}

/** A cursor's fields and their types, e.g. `{ t: "number", id: "string" }`. */
type CursorShape = Record<string, "number" | "string">;
type CursorOf<S extends CursorShape> = { [K in keyof S]: S[K] extends "number" ? number : string };

/** The cursor a client sent back, checked against `shape`; a 400 when it is not one. */
export function decodeCursor<S extends CursorShape>(
  cursor: string | undefined,
  shape: S,
): CursorOf<S> | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(base64urlToText(cursor));
    if (
      typeof value === "object" &&
      value !== null &&
      Object.entries(shape).every(([k, t]) => typeof (value as Record<string, unknown>)[k] === t)
    )
      return value as CursorOf<S>;
  } catch {
    // fall through
  }
  throw new ApiError("invalid_request", "the cursor is not valid", {
    details: [{ path: "cursor", message: "use nextCursor from a previous page" }],
  });
}

/**
 * One page of a list read with `limit + 1` rows: the first `limit` items, presented, and
 * the cursor of the last one when more rows follow (the one extra row says so).
 */
export function pageOf<R, I>(
  rows: readonly R[],
  limit: number,
  present: (row: R) => I,
  cursorOf: (last: R) => unknown,
  encode: (cursor: unknown) => string = encodeCursor,
): { items: I[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(present),
    nextCursor: rows.length > limit && last !== undefined ? encode(cursorOf(last)) : null,
  };
}

export function parseTime(raw: string | undefined, path: string): number | undefined {
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms))
    throw new ApiError("invalid_request", `${path} must be an ISO-8601 time`, {
      details: [{ path, message: raw }],
    });
  return ms;
}

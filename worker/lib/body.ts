/**
 * Request bodies: gzip decoding (SPEC §2: every ingest route accepts `Content-Encoding:
 * gzip`; limits apply to the decompressed body) and JSON that keeps numbers exact.
 */
import type { Context, MiddlewareHandler } from "hono";
import { parseJsonExact } from "../../shared/json-exact";
import { ApiError } from "../lib/errors";

const GZIP = /^\s*(x-)?gzip\s*$/i;

export function isGzip(request: Request): boolean {
  return GZIP.test(request.headers.get("content-encoding") ?? "");
}

/** The body as a stream of decompressed bytes; a corrupt stream errors with `invalid_request`. */
export function gunzipStream(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = (body as ReadableStream<BufferSource>)
    .pipeThrough(new DecompressionStream("gzip"))
    .getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        controller.error(
          new ApiError("invalid_request", "the body is not valid gzip (Content-Encoding: gzip)"),
        );
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Replaces a gzip-encoded request with its decompressed form (no Content-Length, so the
 * body-limit middleware after this counts decompressed bytes). `skip` names routes that
 * stream their body elsewhere and decode it themselves (batch files).
 */
export function gunzipRequests(skip: RegExp): MiddlewareHandler {
  return async (c, next) => {
    const raw = c.req.raw;
    if (raw.body && isGzip(raw) && !skip.test(c.req.path)) {
      const headers = new Headers(raw.headers);
      headers.delete("content-encoding");
      headers.delete("content-length");
      c.req.raw = new Request(raw, { headers, body: gunzipStream(raw.body) });
    }
    const encoding = c.req.raw.headers.get("content-encoding");
    if (c.req.raw.body && encoding && !/^\s*(identity|(x-)?gzip)\s*$/i.test(encoding)) {
      throw new ApiError(
        "unsupported_media_type",
        `Content-Encoding "${encoding}" is not supported; send gzip or plain bodies.`,
      );
    }
    await next();
  };
}

/** The body as text; a body that is not valid gzip answers 400, not 500. */
/**
 * The body as text; a body that is not valid gzip answers 400, not 500, and so does one that
 * is not valid UTF-8 — decoding it would quietly turn the bad bytes into U+FFFD, storing
 * something other than what was sent.
 */
export async function readBodyText(c: Context): Promise<string> {
  let bytes: ArrayBuffer;
  try {
    bytes = await c.req.arrayBuffer();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("invalid_request", "the body could not be read (is it valid gzip?)");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "the body is not valid UTF-8");
  }
}

/** Parses JSON text; inexact numbers become markers that item validation rejects. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === "") throw new ApiError("invalid_json", "the body is empty; send JSON");
  try {
    return parseJsonExact(text);
  } catch (err) {
    throw new ApiError(
      "invalid_json",
      `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

export async function readJsonBody(c: Context): Promise<unknown> {
  return parseJsonText(await readBodyText(c));
}

// @ts-check
/**
 * The typed Tessera client: `hc<AppType>` from Hono, typed by the Worker's own routes, so
 * every path, parameter, body and answer is checked by TypeScript where it is used (the
 * CLI, the console, the tests). Plain JavaScript with JSDoc types so that the CLI runs it
 * on any Node ≥ 18 without a build step; TypeScript reads the types from the JSDoc.
 *
 *   const tessera = createClient({ baseUrl: "http://localhost:8787", key: "sk_…" });
 *   const profile = await unwrap(tessera.v1.profiles["by-identity"][":namespace"][":id"].$get({ param: { namespace: "email", id } }));
 */
import { hc } from "hono/client";

/** @typedef {import("../worker/app").AppType} AppType */
/** @typedef {ReturnType<typeof hc<AppType>>} TesseraClient */

/**
 * @typedef {object} ClientOptions
 * @property {string} baseUrl Tessera's origin, e.g. `http://localhost:8787`.
 * @property {string} [key] An API key (`sk_…`, `pk_…`) or the admin key: sent as a bearer token.
 * @property {Record<string, string>} [headers] More headers for every request.
 * @property {typeof fetch} [fetch] The fetch to use (tests pass the Worker's own).
 */

/**
 * @param {ClientOptions} options
 * @returns {TesseraClient}
 */
export function createClient(options) {
  const base = options.fetch ?? fetch;
  // The key is added at the fetch level, so calls that pass their own headers or a
  // streamed body (`init`) keep it.
  /** @type {typeof fetch} */
  const authorized = (input, init) => {
    const request = new Request(input, init);
    if (options.key && !request.headers.has("authorization"))
      request.headers.set("authorization", `Bearer ${options.key}`);
    for (const [name, value] of Object.entries(options.headers ?? {}))
      if (!request.headers.has(name)) request.headers.set(name, value);
    return base(request);
  };
  const client = encodingPathParams(hc(options.baseUrl, { fetch: authorized }));
  // `hc` cannot be given its type argument in JSDoc; the cast is that argument.
  return /** @type {TesseraClient} */ (/** @type {unknown} */ (client));
}

/**
 * `hc` puts path parameters into the URL as they are, so an id holding `?`, `#`, `%` or
 * `/` would turn into a query, a fragment, another id or another route. Every call
 * (`$get`, `$post`, …, `$url`) goes through here and gets its `param` values
 * percent-encoded; the Worker decodes them back.
 * @param {any} node a client object or one of its nested route objects
 * @returns {any}
 */
function encodingPathParams(node) {
  return new Proxy(node, {
    get(target, property) {
      const value = target[property];
      if (typeof property !== "string") return value;
      if (property.startsWith("$") && typeof value === "function") {
        return (/** @type {any} */ args, /** @type {any[]} */ ...rest) =>
          value(args?.param ? { ...args, param: encodeParams(args.param) } : args, ...rest);
      }
      return value !== null && (typeof value === "object" || typeof value === "function")
        ? encodingPathParams(value)
        : value;
    },
  });
}

/** @param {Record<string, unknown>} params */
function encodeParams(params) {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      v === undefined ? v : encodeURIComponent(String(v)),
    ]),
  );
}

/** The spec's one error shape, thrown by `unwrap` for any answer that is not 2xx. */
export class TesseraError extends Error {
  /**
   * @param {number} status
   * @param {string} code the spec's error code (`invalid_request`, `not_found`, …)
   * @param {string} message
   * @param {{ path: string, message: string }[] | undefined} details
   * @param {string | undefined} requestId
   */
  constructor(status, code, message, details, requestId) {
    super(`${status} ${code}: ${message}${requestId ? ` (request ${requestId})` : ""}`);
    this.name = "TesseraError";
    this.status = status;
    this.code = code;
    this.apiMessage = message;
    this.details = details;
    this.requestId = requestId;
  }
}

/**
 * Reads an answer's error body, whatever it holds (a proxy's HTML page is still an error).
 * @param {Response} response
 * @returns {Promise<TesseraError>}
 */
export async function errorOf(response) {
  const text = await response.text().catch(() => "");
  /** @type {any} */
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = body?.error;
  const requestId = error?.requestId ?? response.headers.get("x-request-id") ?? undefined;
  if (error && typeof error.code === "string")
    return new TesseraError(
      response.status,
      error.code,
      String(error.message ?? ""),
      error.details,
      requestId,
    );
  return new TesseraError(
    response.status,
    `http_${response.status}`,
    text.slice(0, 200) || response.statusText,
    undefined,
    requestId,
  );
}

/**
 * @template R
 * @typedef {R extends import("hono/client").ClientResponse<infer T, infer S extends number, any> ? (S extends 200 | 201 | 202 ? T : never) : never} SuccessBody
 */

/**
 * Awaits a client call and returns its 2xx body (undefined for 204); throws a TesseraError
 * carrying status, error code, message and request id for anything else.
 * @template {import("hono/client").ClientResponse<any, number, string>} R
 * @param {R | Promise<R>} call
 * @returns {Promise<SuccessBody<R>>}
 */
export async function unwrap(call) {
  const response = /** @type {Response} */ (/** @type {unknown} */ (await call));
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return /** @type {SuccessBody<R>} */ (undefined);
  return /** @type {SuccessBody<R>} */ (await response.json());
}

import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { ClientResponse } from "hono/client";
import { createClient, type SuccessBody, unwrap } from "../client/index.js";
import type { ErrorBody } from "../shared/errors";
import type { EventInput, RecordInput } from "../shared/schemas/ingest";
import type { Scope } from "../shared/scopes";
import { poll, runFinished } from "./poll";

export const ADMIN_KEY = env.TESSERA_ADMIN_KEY;

/**
 * The typed client (client/) against this Worker's real `fetch` entry point: paths,
 * parameters and bodies are checked by TypeScript. `unwrap` returns the 2xx body or throws
 * a TesseraError naming status, error code, message and request id.
 */
export function apiClient(key: string | null = ADMIN_KEY) {
  return createClient({
    baseUrl: "https://tessera.test",
    ...(key ? { key } : {}),
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      exports.default.fetch(new Request(input, init))) as typeof fetch,
  });
}
export const api = apiClient();
export { unwrap };

/**
 * Awaits a typed client call and reads its answer whatever the status, for tests that look
 * at status codes, headers or errors: `json` is typed as the route's declared 2xx body (the
 * contract; check `status` before relying on it), `error` is the spec's error object when
 * the answer is one, `text` the raw body.
 */
export async function send<R extends ClientResponse<unknown, number, string>>(request: Promise<R>) {
  const response = await request;
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: body as SuccessBody<R>,
    error: typeof error === "object" && error !== null ? error : undefined,
  };
}

/** The JSON body a typed client call takes: `JsonBody<typeof api.v1.consent.$post>`. */
export type JsonBody<Call extends (args: never, ...rest: never[]) => unknown> =
  Parameters<Call>[0] extends { json: infer J } ? J : never;

/**
 * Narrows an answer that is one of several shapes (a PUT answers differently with
 * `?preview=true`, `?apply=true` or neither) to the shape holding `key`; fails otherwise.
 */
export function having<T, K extends string>(value: T, key: K): Having<T, K> {
  if (
    typeof value !== "object" ||
    value === null ||
    (value as Record<string, unknown>)[key] == null
  )
    throw new Error(`expected an answer with "${key}", got ${JSON.stringify(value)}`);
  return value as Having<T, K>;
}
type Having<T, K extends string> = T extends unknown
  ? K extends keyof T
    ? T & { [k in K]-?: NonNullable<T[k]> }
    : never
  : never;

/** Follows `nextCursor` from the first page to the last; every page's items, in order. */
export async function allPages<T>(
  page: (cursor: { cursor?: string }) => Promise<{ items: T[]; nextCursor?: string | null }>,
) {
  const items: T[] = [];
  let cursor: string | null | undefined;
  do {
    const answer = await page(cursor ? { cursor } : {});
    items.push(...answer.items);
    cursor = answer.nextCursor;
  } while (cursor);
  return items;
}

/** Options of `call`: for the bytes the typed client cannot send (hostile input, files). */
export interface CallOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Calls the Worker through its real `fetch` entry point with any method, path and bytes:
 * for hostile input and raw bodies only. Everything else goes through the typed client
 * (`api`, `apiClient(key)`) and `send`/`unwrap`, so that tests keep the contract's types.
 */
export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers);
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key) headers.set("authorization", `Bearer ${key}`);
  let body: BodyInit | undefined;
  if (options.body instanceof Uint8Array) {
    body = options.body as Uint8Array<ArrayBuffer>; // bytes (gzip, files) go as they are, with the caller's headers
  } else if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const response = await exports.default.fetch(
    new Request(`https://tessera.test${path}`, { method, headers, body }),
  );
  const text = await response.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

type LookupQuery = Parameters<
  (typeof api.v1.profiles)["by-identity"][":namespace"][":id"]["$get"]
>[0]["query"];

/** `GET /v1/profiles/by-identity/:namespace/:id` with the admin key; the answer, any status. */
export const lookup = (namespace: string, id: string, query: LookupQuery = {}) =>
  send(
    api.v1.profiles["by-identity"][":namespace"][":id"].$get({ param: { namespace, id }, query }),
  );

/** `PUT /v1/segments/:id` with the admin key; the answer (callers check the status). */
export const putSegment = (id: string, json: JsonBody<(typeof api.v1.segments)[":id"]["$put"]>) =>
  send(api.v1.segments[":id"].$put({ param: { id }, query: {}, json }));

/** `PUT /v1/datasets/:name` with the admin key; the answer. */
export const putDataset = (
  name: string,
  json: JsonBody<(typeof api.v1.datasets)[":name"]["$put"]>,
) => send(api.v1.datasets[":name"].$put({ param: { name }, json }));

/** `PUT /v1/destinations/:name` with the admin key; the answer. */
export const putDestination = (
  name: string,
  json: JsonBody<(typeof api.v1.destinations)[":name"]["$put"]>,
) => send(api.v1.destinations[":name"].$put({ param: { name }, json }));

/** Creates a secret key with the given scopes and returns the key string. */
export async function createKey(scopes: Scope[], name = "test key"): Promise<string> {
  const created = await unwrap(api.v1.keys.$post({ json: { name, kind: "secret", scopes } }));
  return created.key;
}

export function expectErrorShape(json: unknown, code: string) {
  const error = (json as Partial<ErrorBody> | undefined)?.error;
  if (!error || typeof error !== "object")
    throw new Error(`not an error body: ${JSON.stringify(json)}`);
  if (error.code !== code) throw new Error(`expected ${code}, got ${error.code}: ${error.message}`);
  if (typeof error.message !== "string" || error.message.length === 0) {
    throw new Error("error.message must be a non-empty string");
  }
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Posts events (one call) with the admin key and returns the parsed result. */
export async function postEvents(
  events: EventInputBody[],
  query: { atomic?: "true" | "false" } = {},
) {
  return unwrap(api.v1.events.$post({ query, json: { events } }));
}

export async function postRecords(
  records: RecordInputBody[],
  query: { atomic?: "true" | "false" } = {},
) {
  return unwrap(api.v1.records.$post({ query, json: { records } }));
}
type EventInputBody = import("zod").input<typeof EventInput>;
type RecordInputBody = import("zod").input<typeof RecordInput>;

export const id = (namespace: string, value: string) => ({ namespace, id: value });

/** GET the identity graph of `ns:value`. */
export async function graphOf(namespace: string, value: string) {
  return unwrap(
    api.v1.identities[":namespace"][":id"].graph.$get({ param: { namespace, id: value } }),
  );
}

export const keysOf = (g: { identities: { namespace: string; id: string }[] }) =>
  g.identities.map((i) => `${i.namespace}:${i.id}`).sort();

/** Creates a public key for `origins`; returns the key, its id and its site secret. */
export async function createPublicKey(origins: string[] = ["https://shop.example"]) {
  const res = await send(api.v1.keys.$post({ json: { name: "site", kind: "public", origins } }));
  if (res.status !== 201) throw new Error(`createPublicKey: ${res.status} ${res.text}`);
  return {
    key: res.json.key as string,
    id: res.json.id as string,
    siteSecret: res.json.siteSecret as string,
  };
}

/** Signs an identity token as a site's back end would (HS256 with the site secret). */
export async function identityToken(siteSecret: string, sub: string, ttlSeconds = 300) {
  const { sign } = await import("hono/jwt");
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub, iat: now, exp: now + ttlSeconds }, siteSecret, "HS256");
}

/**
 * A stored batch file with its row and no queue message, as an upload leaves it (or a
 * crash): 2,500 purchase rows of which every 100th (index 7, 107, …) has no identity.
 */
export async function storeBatchWithoutMessage(
  batchId: string,
  dataset: string,
  status: "queued" | "processing",
  updatedAt: number,
  idPrefix: string,
) {
  const { env } = await import("cloudflare:test");
  await send(api.v1.datasets[":name"].$put({ param: { name: dataset }, json: { kind: "events" } }));
  const rows = ["identity.crm,type,amount"];
  for (let i = 0; i < 2500; i++)
    rows.push(i % 100 === 7 ? `,purchase,${i}` : `${idPrefix}-${i % 300},purchase,${i}`);
  const object = await env.FILES.put(`batches/${batchId}.csv`, rows.join("\n") + "\n");
  await env.DB.prepare(
    "INSERT INTO batches (id, dataset, format, status, object_key, bytes, created_at, updated_at) VALUES (?1, ?2, 'csv', ?3, ?4, ?5, ?6, ?6)",
  )
    .bind(batchId, dataset, status, `batches/${batchId}.csv`, object!.size, updatedAt)
    .run();
}

/** Polls a batch until it is completed or failed; its final state. */
export async function waitForBatch(batchId: string) {
  const read = async () =>
    (await send(api.v1.batches[":id"].$get({ param: { id: batchId } }))).json;
  return poll(read, (b) => b.status === "completed" || b.status === "failed", `batch ${batchId}`, {
    everyMs: 100,
  });
}

/** Polls a segment until its evaluation is done; the segment. */
export async function waitForSegment(segmentId: string) {
  const read = async () =>
    (await send(api.v1.segments[":id"].$get({ param: { id: segmentId } }))).json;
  return poll(read, (s) => s.status === "ready", `segment ${segmentId} to be ready`, {
    tries: 200,
  });
}

/** Polls a destination's run until it completed or failed; the run. */
export async function waitForRun(name: string, runId: string) {
  const read = async () =>
    (await send(api.v1.destinations[":name"].runs.$get({ param: { name } }))).json.items.find(
      (r) => r.runId === runId,
    );
  const run = await poll(read, runFinished, `run ${runId} of ${name}`);
  if (!run) throw new Error(`no run ${runId} of ${name}`);
  return run;
}

/** Uploads a batch file (CSV by default) with the admin key; status and body. */
export async function uploadFile(body: string, query: string, contentType = "text/csv") {
  return call("POST", `/v1/batches?${query}`, {
    body,
    headers: {
      "content-type": contentType,
      "content-length": String(new TextEncoder().encode(body).length),
    },
  });
}

/** A batch's row errors (its NDJSON errors file, parsed). */
export async function batchErrors(batchId: string) {
  const res = await send(api.v1.batches[":id"].errors.$get({ param: { id: batchId } }));
  if (!/ndjson/.test(res.headers.get("content-type") ?? ""))
    throw new Error(`errors of ${batchId}: not NDJSON (${res.status})`);
  return res.text.trim()
    ? res.text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
    : [];
}

/**
 * Waits, if need be, until at least `seconds` remain in the current wall-clock minute. The
 * Workers rate-limit binding (and miniflare's) counts in windows aligned to the clock, so a
 * test that fills a 60-second window must not straddle its edge: the count would restart.
 */
export async function clearOfMinuteEdge(seconds = 10) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** `GET /v1/data-views/:id/report` with a query, answered as `send` answers. */
export const viewReport = (
  id: string,
  query: Parameters<(typeof api.v1)["data-views"][":id"]["report"]["$get"]>[0]["query"],
) => send(api.v1["data-views"][":id"].report.$get({ param: { id }, query }));

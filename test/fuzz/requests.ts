/**
 * Request generators for the fuzz suite: fast-check arbitraries built from the served
 * OpenAPI document (every operation, its parameters and JSON body schema), mixed with a
 * corpus of hostile values (prototype keys, deep nesting, lone surrogates, control
 * characters, huge and tiny numbers, garbage cursors, gzip and broken gzip).
 */
import fc from "fast-check";

export interface Operation {
  method: string;
  path: string;
  op: any;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** JSON text; gzipped (or deliberately broken) when sent with `content-encoding: gzip`. */
  body?: string;
  /** What the generator meant: for the report. */
  label: string;
}

const deepArray = (n: number): unknown => (n === 0 ? 1 : [deepArray(n - 1)]);
const deepObject = (n: number): unknown => (n === 0 ? 1 : { a: deepObject(n - 1) });

/** Values that broke the service before (issue 13) or commonly break services. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "sur\ud800-1",
  "\udc00",
  "zero\u200bwidth",
  "bell\u0007",
  "line\u2028sep",
  "注文-0002",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "../../etc/passwd",
  "%00",
  "a".repeat(300),
  "<img src=x onerror=alert(1)>",
  "' OR 1=1 --",
  "/^(a+)+$/",
  "1e309",
  "eyJ4Ijox",
  "%%%",
];

const HOSTILE_JSON_TEXT = [
  "1e309",
  "-1e309",
  "1e-400",
  "18446744073709551617",
  "0.10000000000000000001",
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  JSON.stringify(deepArray(1000)),
  JSON.stringify(deepObject(200)),
  '"\\ud800"',
  '"\\u0000"',
  "[]",
  "{}",
  "null",
];

export const hostileString = fc.constantFrom(...HOSTILE_STRINGS);
const hostileJsonText = fc.constantFrom(...HOSTILE_JSON_TEXT);

/** A JSON value as text: ordinary values, and sometimes a hostile literal. */
const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null") },
  { weight: 1, arbitrary: hostileJsonText },
  { weight: 1, arbitrary: hostileString.map((s) => JSON.stringify(s)) },
);

function resolve(doc: any, schema: any): any {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++)
    s = s.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce((node: any, key: string) => node?.[key], doc);
  return s ?? {};
}

/**
 * JSON text that mostly follows `schema`. Built as text so that hostile literals
 * (`1e309`, `"\ud800"`, `__proto__` keys) reach the server exactly as written.
 */
export function fromSchema(doc: any, raw: any, depth = 0): fc.Arbitrary<string> {
  const schema = resolve(doc, raw);
  const hostile = fc.oneof(
    hostileJsonText,
    hostileString.map((s) => JSON.stringify(s)),
  );
  if (depth > 4) return anyJsonText;
  const variants: fc.Arbitrary<string>[] = [];
  if (schema.enum) variants.push(fc.constantFrom(...schema.enum).map((v) => JSON.stringify(v)));
  if (schema.example !== undefined) variants.push(fc.constant(JSON.stringify(schema.example)));
  for (const key of ["oneOf", "anyOf"] as const) {
    if (Array.isArray(schema[key]))
      variants.push(fc.oneof(...schema[key].map((s: any) => fromSchema(doc, s, depth + 1))));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0)
    variants.push(fromSchema(doc, schema.allOf[0], depth + 1));
  const types: string[] = Array.isArray(schema.type)
    ? schema.type
    : schema.type
      ? [schema.type]
      : [];
  for (const type of types) {
    switch (type) {
      case "object": {
        const props = Object.entries<any>(schema.properties ?? {});
        const required = new Set<string>(schema.required ?? []);
        const entries = props.map(([name, s]) =>
          fc.option(
            fromSchema(doc, s, depth + 1).map((v) => `${JSON.stringify(name)}:${v}`),
            { freq: required.has(name) ? 20 : 2, nil: undefined },
          ),
        );
        const extra = fc.option(
          fc
            .tuple(fc.oneof(hostileString, fc.string({ maxLength: 8 })), anyJsonText)
            .map(([k, v]) => `${JSON.stringify(k)}:${v}`),
          { freq: 4, nil: undefined },
        );
        variants.push(
          fc
            .tuple(fc.tuple(...entries), extra)
            .map(
              ([parts, more]) => `{${[...parts, more].filter((p) => p !== undefined).join(",")}}`,
            ),
        );
        break;
      }
      case "array": {
        const item = schema.items ? fromSchema(doc, schema.items, depth + 1) : anyJsonText;
        variants.push(
          fc
            .array(item, {
              minLength: schema.minItems ?? 0,
              maxLength: Math.min(schema.maxItems ?? 4, 4),
            })
            .map((xs) => `[${xs.join(",")}]`),
        );
        break;
      }
      case "string":
        variants.push(
          fc
            .oneof(
              fc.string({ maxLength: 20 }),
              fc
                .date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) })
                .map((d) => d.toISOString()),
            )
            .map((s) => JSON.stringify(s)),
        );
        break;
      case "integer":
        variants.push(
          fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100000 }).map(String),
        );
        break;
      case "number":
        variants.push(
          fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
        );
        break;
      case "boolean":
        variants.push(fc.boolean().map(String));
        break;
      case "null":
        variants.push(fc.constant("null"));
        break;
    }
  }
  if (variants.length === 0) variants.push(anyJsonText);
  return fc.oneof(
    { weight: 8, arbitrary: fc.oneof(...variants) },
    { weight: 1, arbitrary: hostile },
  );
}

function paramValue(doc: any, param: any): fc.Arbitrary<string> {
  const schema = resolve(doc, param.schema ?? {});
  const typed: fc.Arbitrary<string>[] = [];
  if (schema.enum) typed.push(fc.constantFrom(...schema.enum.map(String)));
  if (schema.example !== undefined) typed.push(fc.constant(String(schema.example)));
  if (schema.type === "integer") typed.push(fc.integer({ min: -5, max: 2000 }).map(String));
  if (/^(namespace)$/.test(param.name))
    typed.push(fc.constantFrom("email", "crm", "device", "phone", "loyalty"));
  if (/^(id|profileId|name|code)$/.test(param.name))
    typed.push(fc.constantFrom("crm-fuzz-1", "default", "fuzz", "gold-members"));
  if (/^(from|to|updatedSince)$/.test(param.name))
    typed.push(
      fc
        .date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) })
        .map((d) => d.toISOString()),
    );
  typed.push(fc.string({ maxLength: 12 }));
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...typed) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Lists every operation of the document. */
export function operationsOf(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (["get", "post", "put", "delete", "patch"].includes(method))
        ops.push({ method: method.toUpperCase(), path, op });
    }
  }
  return ops;
}

const encodePathValue = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return "%ED%A0%80"; // a lone surrogate has no UTF-8 form; send the bytes a client would
  }
};

export function requestFor(doc: any, operation: Operation, key: string): fc.Arbitrary<FuzzRequest> {
  const params: any[] = (operation.op.parameters ?? []).map((p: any) => resolve(doc, p));
  const pathParams = params.filter((p) => p.in === "path");
  const queryParams = params.filter((p) => p.in === "query");
  const json = operation.op.requestBody?.content?.["application/json"]?.schema;
  const body: fc.Arbitrary<string | undefined> = json
    ? fromSchema(doc, json)
    : fc.constant(undefined);
  const query = fc.tuple(
    ...queryParams.map((p) =>
      fc.option(
        paramValue(doc, p).map((v) => [p.name, v] as const),
        { freq: 2, nil: undefined },
      ),
    ),
  );
  const auth = fc.oneof(
    { weight: 12, arbitrary: fc.constant(`Bearer ${key}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("", "Bearer ", "Bearer sk_wrong", "Basic Og==", `Bearer ${key}x`),
    },
  );
  return fc
    .record({
      path: fc.tuple(...pathParams.map((p) => paramValue(doc, p))),
      query,
      extraQuery: fc.option(
        fc.tuple(
          fc.constantFrom("cursor", "limit", "attr.__proto__", "include", "mergePolicy"),
          hostileString,
        ),
        { freq: 5, nil: undefined },
      ),
      body,
      auth,
      encoding: fc.constantFrom("plain", "plain", "plain", "plain", "gzip", "broken-gzip"),
    })
    .map(({ path, query, extraQuery, body, auth, encoding }) => {
      let url = operation.path;
      pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodePathValue(path[i]!))));
      const search = new URLSearchParams();
      for (const q of query) if (q) search.append(q[0], q[1]);
      if (extraQuery) search.append(extraQuery[0], extraQuery[1]);
      const qs = [...search].length ? `?${search.toString()}` : "";
      const headers: Record<string, string> = {};
      if (auth) headers.authorization = auth;
      const payload = body;
      if (payload !== undefined) {
        headers["content-type"] = "application/json";
        if (encoding !== "plain") headers["content-encoding"] = "gzip";
      }
      return {
        method: operation.method,
        path: url + qs,
        headers,
        body: payload,
        label: `${operation.method} ${operation.path} (${encoding})`,
      };
    });
}

export async function gzipBytes(text: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
}

/**
 * Stateless checks of ingest items (SPEC §2 "Ingest" limits): size, identity count,
 * depth, timestamp window, names, shape, identity normalization, dataset and its JSON
 * Schema. Each failure is one item's error; the good items beside it go on.
 */

import { Validator } from "@cfworker/json-schema";
import type { ZodType } from "zod";
import { inspectTree, type TreeProblem } from "../../shared/attribute-tree";
import { type ErrorDetail, formatPath } from "../../shared/errors";
import { normalizeIdentity } from "../../shared/identity/normalize";
import { NAME_PATTERN } from "../../shared/schemas/common";
import type { ConsentStatus } from "../../shared/schemas/consent";
import { EventInput, INGEST_LIMITS, RecordInput } from "../../shared/schemas/ingest";
import { unknownNameMessage } from "../../shared/suggest";
import type { DatasetRow } from "../db/queries/datasets";
import type { IdentityConfig } from "../graph/identity-config";
import type { ErrorCode } from "../lib/errors";
import type { IdentityRef } from "../model/graph";
import type { ItemError, NormalizedItem } from "./types";

export interface ValidationContext {
  identity: IdentityConfig;
  datasets: Map<string, DatasetRow>;
  now: number;
  /** `events` or `records`: the body's list name, for error paths. */
  listName: string;
}

type Result = { ok: true; item: NormalizedItem } | { ok: false; error: ItemError };

const fail = (code: ErrorCode, message: string, details?: ErrorDetail[]): Result => ({
  ok: false,
  error: { code, message, ...(details ? { details } : {}) },
});

const TREE_PROBLEMS: Record<TreeProblem["kind"], (p: TreeProblem) => [ErrorCode, string]> = {
  reserved_key: (p) => [
    "invalid_attribute",
    `"${(p as { key: string }).key}" is a reserved key and cannot be an attribute`,
  ],
  malformed_text: () => [
    "invalid_attribute",
    "text must be valid Unicode (a lone surrogate cannot be stored as sent)",
  ],
  inexact_number: (p) => [
    "invalid_number",
    `${(p as { source: string }).source} cannot be stored exactly: numbers must be finite and representable as sent (send it as a string)`,
  ],
  unsupported_value: () => ["invalid_attribute", "not a JSON value"],
};

/** Depth (arrays count) and storability of `attributes` / `data`. */
function checkTree(
  item: Record<string, unknown>,
  field: "attributes" | "data",
): Result | undefined {
  if (!(field in item)) return undefined;
  // `{ a: { b: 1 } }` is 2 levels deep, `{ a: [1] }` too: arrays count (SPEC §2).
  const report = inspectTree(item[field], INGEST_LIMITS.attributeDepth, field);
  if (report.depth > INGEST_LIMITS.attributeDepth) {
    return fail(
      "attribute_too_deep",
      `${field} nest at most ${INGEST_LIMITS.attributeDepth} levels deep, arrays included (found more)`,
      [{ path: field, message: `deeper than ${INGEST_LIMITS.attributeDepth}` }],
    );
  }
  if (report.problem) {
    const [code, message] = TREE_PROBLEMS[report.problem.kind](report.problem);
    return fail(code, message, [{ path: report.problem.path, message }]);
  }
  return undefined;
}

const schemaCache = new WeakMap<object, Validator>();
const encoder = new TextEncoder();

function schemaErrors(dataset: DatasetRow, instance: unknown): ErrorDetail[] {
  if (!dataset.schema) return [];
  let validator = schemaCache.get(dataset.schema);
  if (!validator) {
    validator = new Validator(dataset.schema as never, "2020-12", false);
    schemaCache.set(dataset.schema, validator);
  }
  const result = validator.validate(instance);
  if (result.valid) return [];
  // Keep the most specific messages: the leaves of cfworker's error tree.
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const e of result.errors) {
    if (
      ["properties", "allOf", "anyOf", "oneOf", "$ref", "items", "prefixItems"].includes(e.keyword)
    )
      continue;
    const path = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean).join(".");
    const key = `${path}|${e.error}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message: e.error });
  }
  return details.length > 0
    ? details
    : [{ path: "", message: "does not conform to the dataset schema" }];
}

function normalizeIdentities(
  ctx: ValidationContext,
  raw: { namespace: string; id: string }[],
): { refs: IdentityRef[] } | Result {
  const refs: IdentityRef[] = [];
  const seen = new Set<string>();
  for (const [i, identity] of raw.entries()) {
    const ns = ctx.identity.namespaces.get(identity.namespace);
    if (!ns) {
      return fail("unknown_namespace", `unknown namespace "${identity.namespace}"`, [
        { path: `identities[${i}].namespace`, message: "not a namespace; see GET /v1/namespaces" },
      ]);
    }
    const result = normalizeIdentity(ns, identity.id, ctx.identity.phoneRegion);
    if (!result.ok)
      return fail(result.code, result.message, [
        { path: `identities[${i}].id`, message: result.message },
      ]);
    const key = `${identity.namespace}:${result.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      refs.push({ namespace: identity.namespace, value: result.value });
    }
  }
  return { refs };
}

function preflight(raw: unknown, ctx: ValidationContext): Result | undefined {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return fail("invalid_request", "an item must be a JSON object");
  // UTF-8 is at most 3 bytes per UTF-16 unit: only encode when the item could be too large.
  const text = JSON.stringify(raw);
  const bytes =
    text.length * 3 <= INGEST_LIMITS.itemBytes ? text.length : encoder.encode(text).length;
  if (bytes > INGEST_LIMITS.itemBytes) {
    return fail(
      "item_too_large",
      `an item is at most ${INGEST_LIMITS.itemBytes} bytes of JSON (this one is ${bytes})`,
    );
  }
  const item = raw as Record<string, unknown>;
  if (Array.isArray(item.identities) && item.identities.length > INGEST_LIMITS.identitiesPerItem) {
    return fail(
      "too_many_identities",
      `an item carries at most ${INGEST_LIMITS.identitiesPerItem} identities`,
      [{ path: "identities", message: `${item.identities.length} identities` }],
    );
  }
  if (typeof item.dataset === "string" && !NAME_PATTERN.test(item.dataset)) {
    return fail("invalid_name", "dataset names match [a-z][a-z0-9_-]{0,63}", [
      { path: "dataset", message: "invalid name" },
    ]);
  }
  if (Array.isArray(item.identities)) {
    for (const [i, id] of item.identities.entries()) {
      const ns = (id as { namespace?: unknown } | null)?.namespace;
      if (typeof ns === "string" && !NAME_PATTERN.test(ns)) {
        return fail("invalid_name", "namespace codes match [a-z][a-z0-9_-]{0,63}", [
          { path: `identities[${i}].namespace`, message: "invalid name" },
        ]);
      }
    }
  }
  for (const field of ["attributes", "data"] as const) {
    const problem = checkTree(item, field);
    if (problem) return problem;
  }
  if (typeof item.timestamp === "string") {
    const at = Date.parse(item.timestamp);
    if (Number.isFinite(at) && (at < 0 || at > ctx.now + INGEST_LIMITS.futureMs)) {
      return fail(
        "invalid_timestamp",
        "timestamps must lie between 1970-01-01 and one day from now",
        [{ path: "timestamp", message: item.timestamp }],
      );
    }
  }
  return undefined;
}

function parseShape<T>(schema: ZodType<T>, raw: unknown): { value: T } | Result {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  const details = parsed.error.issues.map((i) => ({
    path: formatPath(i.path),
    message: i.message,
  }));
  const timestampIssue = details.find((d) => d.path === "timestamp");
  if (timestampIssue) return fail("invalid_timestamp", timestampIssue.message, details);
  return fail("invalid_request", "the item is not valid", details);
}

function resolveDataset(
  ctx: ValidationContext,
  name: string,
  kind: "records" | "events",
): DatasetRow | Result {
  const dataset = ctx.datasets.get(name);
  if (!dataset) {
    return fail(
      "unknown_dataset",
      `unknown dataset "${name}": create it with PUT /v1/datasets/${name}`,
      [{ path: "dataset", message: "unknown dataset" }],
    );
  }
  if (dataset.kind !== "any" && dataset.kind !== kind) {
    return fail("wrong_dataset_kind", `dataset "${name}" holds ${dataset.kind}, not ${kind}`, [
      { path: "dataset", message: `a ${dataset.kind} dataset` },
    ]);
  }
  return dataset;
}

const isResult = (x: unknown): x is Result => typeof x === "object" && x !== null && "ok" in x;

const EVENT_FIELDS = Object.keys(EventInput.shape);
const RECORD_FIELDS = Object.keys(RecordInput.shape);
const IDENTITY_FIELDS = ["namespace", "id"];

/**
 * Unknown fields are errors, not silence (SPEC §2): `dat` for `data` would otherwise drop
 * the data and answer "accepted". The detail names the field and the one it probably meant.
 */
function unknownFields(
  item: Record<string, unknown>,
  known: readonly string[],
  what: string,
): Result | undefined {
  for (const key of Object.keys(item)) {
    if (known.includes(key)) continue;
    const message = unknownNameMessage(`field of ${what}`, key, known);
    return fail("invalid_request", message, [{ path: key, message }]);
  }
  if (Array.isArray(item.identities)) {
    for (const [i, identity] of item.identities.entries()) {
      if (identity === null || typeof identity !== "object" || Array.isArray(identity)) continue;
      for (const key of Object.keys(identity)) {
        if (IDENTITY_FIELDS.includes(key)) continue;
        const message = unknownNameMessage("field of an identity", key, IDENTITY_FIELDS);
        return fail("invalid_request", message, [{ path: `identities[${i}].${key}`, message }]);
      }
    }
  }
  return undefined;
}

export function validateEvent(
  raw: unknown,
  index: number,
  ctx: ValidationContext,
  defaultId?: string,
): Result {
  const early =
    preflight(raw, ctx) ?? unknownFields(raw as Record<string, unknown>, EVENT_FIELDS, "an event");
  if (early) return early;
  const shape = parseShape(EventInput, raw);
  if (isResult(shape)) return shape;
  const input = shape.value;
  const dataset = resolveDataset(ctx, input.dataset ?? "default", "events");
  if (isResult(dataset)) return dataset;
  const identities = normalizeIdentities(ctx, input.identities);
  if (isResult(identities)) return identities;
  const data = input.data ?? null;
  const violations = schemaErrors(dataset, data ?? {});
  if (violations.length > 0) {
    return fail(
      "schema_violation",
      `data does not conform to the schema of dataset "${dataset.name}"`,
      violations.map((d) => ({ ...d, path: d.path ? `data.${d.path}` : "data" })),
    );
  }
  return {
    ok: true,
    item: {
      index,
      kind: "event",
      dataset: dataset.name,
      identities: identities.refs,
      at: input.timestamp ? Date.parse(input.timestamp) : ctx.now,
      event: { id: input.id ?? defaultId ?? crypto.randomUUID(), type: input.type, data },
    },
  };
}

/** `POST /v1/consent`: the identities normalized, the choices as given (shape checked by ConsentBody). */
export function validateConsent(
  input: {
    identities: { namespace: string; id: string }[];
    purposes: Record<string, ConsentStatus>;
    timestamp?: string;
    source?: string;
  },
  ctx: ValidationContext,
  purposes: ReadonlySet<string>,
): Result {
  const identities = normalizeIdentities(ctx, input.identities);
  if (isResult(identities)) return identities;
  const unknown = Object.keys(input.purposes).filter((p) => !purposes.has(p));
  if (unknown.length)
    return fail(
      "invalid_request",
      `unknown purpose "${unknown[0]}"`,
      unknown.map((p) => ({
        path: `purposes.${p}`,
        message: `not a purpose; see GET /v1/settings/consent (${[...purposes].join(", ")})`,
      })),
    );
  return {
    ok: true,
    item: {
      index: 0,
      kind: "consent",
      dataset: "consent",
      identities: identities.refs,
      at: input.timestamp ? Date.parse(input.timestamp) : ctx.now,
      consent: { purposes: input.purposes, source: input.source ?? "api" },
    },
  };
}

export function validateRecord(
  raw: unknown,
  index: number,
  ctx: ValidationContext,
  _defaultId?: string,
): Result {
  const early =
    preflight(raw, ctx) ?? unknownFields(raw as Record<string, unknown>, RECORD_FIELDS, "a record");
  if (early) return early;
  const shape = parseShape(RecordInput, raw);
  if (isResult(shape)) return shape;
  const input = shape.value;
  const dataset = resolveDataset(ctx, input.dataset, "records");
  if (isResult(dataset)) return dataset;
  const identities = normalizeIdentities(ctx, input.identities);
  if (isResult(identities)) return identities;
  // A record is a patch: `null` removes. The schema judges what the patch sets.
  const violations = schemaErrors(dataset, withoutNulls(input.attributes));
  if (violations.length > 0) {
    return fail(
      "schema_violation",
      `attributes do not conform to the schema of dataset "${dataset.name}"`,
      violations.map((d) => ({ ...d, path: d.path ? `attributes.${d.path}` : "attributes" })),
    );
  }
  return {
    ok: true,
    item: {
      index,
      kind: "record",
      dataset: dataset.name,
      identities: identities.refs,
      at: input.timestamp ? Date.parse(input.timestamp) : ctx.now,
      attributes: input.attributes,
    },
  };
}

function withoutNulls(tree: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tree)) {
    if (v === null) continue;
    out[k] =
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? withoutNulls(v as Record<string, unknown>)
        : v;
  }
  return out;
}

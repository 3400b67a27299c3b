/**
 * `POST /v1/events` and `POST /v1/records`: validate each item here (stateless, in the
 * Worker), then hand the good ones to the GraphWriter in one call. Bad items are rejected
 * with their reason; with `atomic`, one bad item rejects the whole call.
 */
import { INGEST_LIMITS, type IngestResult } from "../../shared/schemas/ingest";
import type { Db } from "../db/client";
import { listDatasets } from "../db/queries/datasets";
import type { Bindings } from "../env";
import { loadIdentityConfig } from "../graph/rules";
import { graphWriter } from "../graph/writer";
import { ApiError } from "../lib/errors";
import type { ItemError, ItemOutcome, NormalizedItem } from "./types";
import { validateEvent, validateRecord, type ValidationContext } from "./validate";

export type IngestKind = "events" | "records";

export function itemsOf(body: unknown, kind: IngestKind): unknown[] {
  if (body !== null && typeof body === "object" && !Array.isArray(body) && kind in body) {
    const list = (body as Record<string, unknown>)[kind];
    if (!Array.isArray(list)) {
      throw new ApiError("invalid_request", `\`${kind}\` must be an array`, { details: [{ path: kind, message: "not an array" }] });
    }
    return list;
  }
  if (Array.isArray(body)) {
    throw new ApiError("invalid_request", `send one item or { "${kind}": [...] }`, { details: [{ path: "", message: "a bare array" }] });
  }
  return [body];
}

export async function validationContext(env: Bindings, db: Db, listName: string, now = Date.now()): Promise<ValidationContext> {
  const [identity, datasets] = await Promise.all([loadIdentityConfig(db, env.TESSERA_PHONE_REGION), listDatasets(db)]);
  return { identity, datasets: new Map(datasets.map((d) => [d.name, d])), now, listName };
}

function atomicFailure(kind: IngestKind, rejected: { index: number; error: ItemError }[]): ApiError {
  const first = rejected[0]!;
  return new ApiError(first.error.code, `atomic call rejected: ${rejected.length} item(s) are not valid; nothing was stored`, {
    details: rejected.flatMap(({ index, error }) =>
      (error.details?.length ? error.details : [{ path: "", message: error.message }]).map((d) => ({
        path: d.path ? `${kind}[${index}].${d.path}` : `${kind}[${index}]`,
        message: d.path ? d.message : `${error.code}: ${error.message}`,
      })),
    ),
  });
}

export async function ingest(
  env: Bindings,
  db: Db,
  kind: IngestKind,
  body: unknown,
  options: { atomic: boolean },
): Promise<IngestResult> {
  const items = itemsOf(body, kind);
  if (items.length === 0) throw new ApiError("invalid_request", `\`${kind}\` is empty`);
  if (items.length > INGEST_LIMITS.itemsPerCall) {
    throw new ApiError("too_many_items", `at most ${INGEST_LIMITS.itemsPerCall} ${kind} per call (got ${items.length}); use /v1/batches for files`);
  }
  const receivedAt = Date.now();
  const ctx = await validationContext(env, db, kind, receivedAt);
  const validate = kind === "events" ? validateEvent : validateRecord;

  const rejected: { index: number; error: ItemError }[] = [];
  const good: NormalizedItem[] = [];
  items.forEach((raw, index) => {
    const result = validate(raw, index, ctx);
    if (result.ok) good.push(result.item);
    else rejected.push({ index, error: result.error });
  });
  if (options.atomic && rejected.length > 0) throw atomicFailure(kind, rejected);

  let outcomes: ItemOutcome[] = [];
  let profiles: string[] = [];
  if (good.length > 0) {
    const applied = await graphWriter(env).ingest({ items: good, atomic: options.atomic, receivedAt }, ctx.identity.graph);
    outcomes = applied.outcomes;
    profiles = applied.profiles;
  }
  for (const o of outcomes) if (o.status === "rejected") rejected.push({ index: o.index, error: o.error });
  if (options.atomic && rejected.length > 0) throw atomicFailure(kind, rejected);
  rejected.sort((a, b) => a.index - b.index);

  return {
    accepted: outcomes.filter((o) => o.status === "accepted").length,
    duplicates: outcomes.filter((o) => o.status === "duplicate").length,
    rejected,
    profiles,
  };
}

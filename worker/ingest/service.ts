/**
 * Ingestion, shared by `POST /v1/events`, `POST /v1/records` and batch files: validate
 * each item here (stateless, in the Worker), then hand the good ones to the GraphWriter
 * in one call. Bad items are rejected with their reason; with `atomic`, one bad item
 * rejects the whole call.
 */

import { INGEST_LIMITS, type IngestResult } from "../../shared/schemas/ingest";
import { cachedDatasets } from "../config/service";
import type { Db } from "../db/client";
import type { GraphEffect } from "../graph/effect";
import { loadIdentityConfig } from "../graph/identity-config";
import { ok, problem, type Result } from "../lib/result";
import type { Bindings } from "../model/bindings";
import { dryRun, ingestCommand } from "../writer/client";
import type { IngestApplied } from "../writer/types";
import type { ItemError, ItemOutcome, NormalizedItem } from "./types";
import { type ValidationContext, validateEvent, validateRecord } from "./validate";

export type IngestKind = "events" | "records";

export interface RawItem {
  index: number;
  kind: IngestKind;
  value: unknown;
  /** Event id when the item has none (batch rows use a stable one, so retries are no-ops). */
  defaultEventId?: string;
  /** Records only: also store an event of this type and id (tracking identify/group), which makes a resent message a duplicate. */
  receipt?: { id: string; type: string };
  /** A purpose the profile must have granted, or the item stores nothing (browser collection: `analytics`). */
  requires?: string;
}

/** The items of a call: one item, or `{ events: [...] }` / `{ records: [...] }` of 1–1,000. */
function itemsOf(body: unknown, kind: IngestKind): Result<unknown[]> {
  let items: unknown[];
  if (body !== null && typeof body === "object" && !Array.isArray(body) && kind in body) {
    const list = (body as Record<string, unknown>)[kind];
    if (!Array.isArray(list))
      return problem("invalid_request", `\`${kind}\` must be an array`, [
        { path: kind, message: "not an array" },
      ]);
    // A list body has one key: anything beside it would be silently ignored.
    const extra = Object.keys(body).find((k) => k !== kind);
    if (extra !== undefined) {
      const message = `unknown top-level field "${extra}": a list body is { "${kind}": [...] } and nothing else`;
      return problem("invalid_request", message, [{ path: extra, message: "unknown field" }]);
    }
    items = list;
  } else if (Array.isArray(body)) {
    return problem("invalid_request", `send one item or { "${kind}": [...] }`, [
      { path: "", message: "a bare array" },
    ]);
  } else {
    items = [body];
  }
  if (items.length === 0) return problem("invalid_request", `\`${kind}\` is empty`);
  if (items.length > INGEST_LIMITS.itemsPerCall) {
    return problem(
      "too_many_items",
      `at most ${INGEST_LIMITS.itemsPerCall} ${kind} per call (got ${items.length}); use /v1/batches for files`,
    );
  }
  return ok(items);
}

export async function validationContext(
  env: Bindings,
  db: Db,
  listName: string,
  now = Date.now(),
): Promise<ValidationContext> {
  const [identity, datasets] = await Promise.all([
    loadIdentityConfig(db, env.TESSERA_PHONE_REGION),
    cachedDatasets(db),
  ]);
  return { identity, datasets: new Map(datasets.map((d) => [d.name, d])), now, listName };
}

export interface IngestCost {
  validateMs: number;
  /** Milliseconds from handing the items to the writer until the answer (queueing included). */
  writerMs: number;
  /** The group this call was committed with; undefined when nothing reached the writer. */
  lane?: IngestApplied["lane"];
  /** The `Tessera-Consistency` token of the answer; undefined when nothing reached the writer. */
  consistency?: string;
}

interface IngestOutcomes {
  /** One per item, in input order. */
  outcomes: ItemOutcome[];
  profiles: string[];
  cost: IngestCost;
  /** A dry run: what the call would do to the graphs (nothing was written). */
  effect?: GraphEffect;
}

/** Validates and stores items; never throws for a bad item unless `atomic`. */
export async function ingestItems(
  env: Bindings,
  ctx: ValidationContext,
  items: readonly RawItem[],
  /** `before`: items already normalized (consent choices a call carries) applied first, with indexes below 0. */
  options: {
    atomic: boolean;
    receivedAt: number;
    before?: readonly NormalizedItem[];
    dryRun?: boolean;
  },
): Promise<IngestOutcomes> {
  const byIndex = new Map<number, ItemOutcome>();
  const good: NormalizedItem[] = [];
  const validationStarted = performance.now();
  for (const raw of items) {
    const validate = raw.kind === "events" ? validateEvent : validateRecord;
    const result = validate(raw.value, raw.index, ctx, raw.defaultEventId);
    if (result.ok && raw.receipt)
      result.item.event = { id: raw.receipt.id, type: raw.receipt.type, data: null };
    if (result.ok && raw.requires) result.item.requires = raw.requires;
    if (result.ok) good.push(result.item);
    else byIndex.set(raw.index, { index: raw.index, status: "rejected", error: result.error });
  }
  const cost: IngestCost = { writerMs: 0, validateMs: performance.now() - validationStarted };
  if (options.atomic && byIndex.size > 0) {
    return {
      outcomes: items.map(
        (it) => byIndex.get(it.index) ?? { index: it.index, status: "duplicate" },
      ),
      profiles: [],
      cost,
    };
  }

  let profiles: string[] = [];
  const before = options.before ?? [];
  if (good.length + before.length > 0) {
    const started = performance.now();
    const command = {
      items: [...before, ...good],
      atomic: options.atomic,
      receivedAt: options.receivedAt,
    };
    if (options.dryRun) {
      const dry = await dryRun(env, command);
      cost.writerMs = performance.now() - started;
      for (const o of dry.outcomes) byIndex.set(o.index, o);
      return {
        outcomes: items.map((it) => byIndex.get(it.index)!),
        profiles: dry.profiles,
        cost,
        effect: dry.effect,
      };
    }
    const applied = await ingestCommand(env, command);
    cost.writerMs = performance.now() - started;
    cost.lane = applied.lane;
    cost.consistency = applied.consistency;
    for (const o of applied.outcomes) byIndex.set(o.index, o);
    profiles = applied.profiles;
  }
  return { outcomes: items.map((it) => byIndex.get(it.index)!), profiles, cost };
}

function atomicFailure(kind: IngestKind, rejected: { index: number; error: ItemError }[]) {
  const first = rejected[0]!;
  return problem(
    first.error.code,
    `atomic call rejected: ${rejected.length} item(s) are not valid; nothing was stored`,
    rejected.flatMap(({ index, error }) =>
      (error.details?.length ? error.details : [{ path: "", message: error.message }]).map((d) => ({
        path: d.path ? `${kind}[${index}].${d.path}` : `${kind}[${index}]`,
        message: d.path ? d.message : `${error.code}: ${error.message}`,
      })),
    ),
  );
}

/** `POST /v1/events` and `POST /v1/records`. */
export async function ingest(
  env: Bindings,
  db: Db,
  kind: IngestKind,
  body: unknown,
  options: { atomic: boolean; dryRun?: boolean },
): Promise<Result<IngestResult & { cost: IngestOutcomes["cost"] }>> {
  const parsed = itemsOf(body, kind);
  if (!parsed.ok) return parsed;
  const items = parsed.value;
  const receivedAt = Date.now();
  const ctx = await validationContext(env, db, kind, receivedAt);
  const { outcomes, profiles, cost, effect } = await ingestItems(
    env,
    ctx,
    items.map((value, index) => ({ index, kind, value })),
    { atomic: options.atomic, receivedAt, dryRun: options.dryRun },
  );
  const rejected = outcomes.flatMap((o) =>
    o.status === "rejected" ? [{ index: o.index, error: o.error }] : [],
  );
  if (options.atomic && rejected.length > 0) return atomicFailure(kind, rejected);
  return ok({
    accepted: outcomes.filter((o) => o.status === "accepted").length,
    duplicates: outcomes.filter((o) => o.status === "duplicate").length,
    rejected,
    profiles,
    ...(effect ? { dryRun: true as const, graph: effect } : {}),
    cost,
  });
}

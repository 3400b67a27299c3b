/**
 * Export runs (SPEC "Destinations", "Export formats"): merged profiles, events or the
 * identity map, as gzip NDJSON or Parquet parts plus a manifest.json, one page per queue
 * message so a run of any size fits the Worker's memory and CPU limits and resumes after
 * a failure. Files are laid out as
 *   <prefix>content=<content>/date=<YYYY-MM-DD>/run=<runId>/part-NNNNN.<ext>
 * so Spark, DuckDB, Athena or BigQuery read a whole prefix as one partitioned table; a
 * retried run overwrites only its own files. Erased profiles are gone from the tables, so
 * they never appear; consent.marketing = "n" is left out unless the destination says
 * otherwise. An incremental run exports what changed since the last completed run:
 * profiles updated since it started, events stored after its last event, identities
 * seen (or whose profile changed) since it started.
 */

import { allowListed } from "../../shared/attribute-tree";
import { sha256Hex } from "../../shared/digest";
import type { DestinationConfig } from "../../shared/schemas/destinations";
import { grantsAll, isGranted } from "../consent/merge";
import { consentSettings, readConsents } from "../consent/service";
import { createDb } from "../db/client";
import {
  createRun,
  eventExportPage,
  eventHighWater,
  exportBundle,
  exportPageFacts,
  getDestination,
  getRun,
  identityExportPage,
  lastCompletedRun,
  listDestinations,
  type PartInfo,
  updateRun,
} from "../db/queries/exports";
import type { Bindings } from "../model/bindings";
import { type FragmentInput, mergeFragments } from "../profiles/merge";
import { resolvePolicy } from "../profiles/service";
import {
  contentTypeOf,
  type ExportContent,
  type ExportFormat,
  encodePart,
  eventRow,
  extensionOf,
  type Row,
} from "./formats";
import { storeFor } from "./storage";

/** Rows per part: profiles are merged per page (CPU); events and identities are plain rows. */
const EXPORT_PAGE: Record<ExportContent, number> = {
  profiles: 1000,
  events: 10_000,
  identities: 10_000,
};

export interface ExportJob {
  kind: "export-page";
  runId: string;
  part: number;
  after: string;
}

/** What a run fixed when it started, and how far it got. */
interface RunPlan {
  part: number;
  /** The last profile id, or event / identity row id (as a string), written. */
  after: string;
  content: ExportContent;
  format: ExportFormat;
  mode: "full" | "incremental";
  /** Incremental: changes at or after this time (profiles, identities) or after this event row id. */
  since: number;
  /** Events: the newest row id when the run started; identities: when the run started (later changes belong to the next run). */
  high: number;
  /** The run's date partition (UTC, when it started). */
  date: string;
}

export function planOf(cursor: string | null): RunPlan {
  const stored = cursor ? (JSON.parse(cursor) as Partial<RunPlan>) : {};
  return {
    part: 0,
    after: "",
    content: "profiles",
    format: "ndjson",
    mode: "full",
    since: 0,
    high: 0,
    date: new Date().toISOString().slice(0, 10),
    ...stored,
  };
}

/** How far a run got: the last part written and the row it ended at. */
export function exportProgress(cursor: string | null): { part: number; after: string } {
  const plan = planOf(cursor);
  return { part: plan.part, after: plan.after };
}

/** `prefix/content=…/date=…/run=…/` */
export const runFolder = (prefix: string, content: ExportContent, date: string, runId: string) =>
  `${prefix}content=${content}/date=${date}/run=${runId}/`;

export async function startExport(
  env: Bindings,
  destination: string,
  trigger: string,
  runId = `run_${crypto.randomUUID()}`,
): Promise<string> {
  const db = createDb(env.DB);
  const row = await getDestination(db, destination);
  const config = (row?.config ?? {}) as Partial<DestinationConfig>;
  const content = config.content ?? "profiles";
  const mode = config.mode ?? "full";
  const previous = mode === "incremental" ? await lastCompletedRun(db, destination) : undefined;
  const previousPlan = previous ? planOf(previous.cursor) : undefined;
  // Incremental events continue after the previous run's newest event, identities from the
  // previous run's upper bound (so a last-seen time in the future is exported once, when its
  // window comes), profiles from when the previous run started.
  const since = previous
    ? content === "events" || (content === "identities" && previousPlan!.high > 0)
      ? previousPlan!.high
      : previous.startedAt
    : 0;
  const now = Date.now();
  const plan: RunPlan = {
    part: 0,
    after: content === "profiles" ? "" : String(content === "events" ? since : 0),
    content,
    format: config.format ?? "ndjson",
    mode,
    since,
    high: content === "events" ? await eventHighWater(env.DB) : content === "identities" ? now : 0,
    date: new Date().toISOString().slice(0, 10),
  };
  await createRun(db, { id: runId, destination, trigger, cursor: JSON.stringify(plan) });
  await env.JOBS_QUEUE.send({
    kind: "export-page",
    runId,
    part: 1,
    after: plan.after,
  } satisfies ExportJob);
  return runId;
}

/** One page of rows of the run's content; `next` is where the following page starts. */
async function pageRows(
  env: Bindings,
  config: DestinationConfig,
  plan: RunPlan,
  after: string,
): Promise<{ rows: Row[]; next: string; last: boolean }> {
  const size = EXPORT_PAGE[plan.content];
  if (plan.content === "events") {
    const events = await eventExportPage(env.DB, Number(after), plan.high, size);
    const rows = events.map(eventRow);
    return { rows, next: String(events.at(-1)?.rowid ?? after), last: events.length < size };
  }
  if (plan.content === "identities") {
    const identities = await identityExportPage(
      env.DB,
      Number(after),
      plan.mode === "incremental" ? { since: plan.since, until: plan.high } : undefined,
      size,
    );
    const rows = identities.map((i) => ({
      namespace: i.namespace,
      id: i.value,
      profileId: i.profile_id,
      firstSeen: i.first_seen,
      lastSeen: i.last_seen,
    }));
    return { rows, next: String(identities.at(-1)?.id ?? after), last: identities.length < size };
  }
  const resolved = await resolvePolicy(createDb(env.DB), config.mergePolicy);
  // The policy was checked when the destination was saved; it may have been deleted since.
  if (!resolved.ok) throw new Error(resolved.problem.message);
  const policy = resolved.value;
  const ids = await exportPageFacts(
    env.DB,
    after,
    size,
    config.segment,
    plan.mode === "incremental" ? plan.since : 0,
  );
  const [bundle, consentOf] = await Promise.all([
    exportBundle(env.DB, ids),
    consentSettings(createDb(env.DB)).then((settings) => readConsents(env.DB, settings, ids)),
  ]);
  const fragments = new Map<string, FragmentInput[]>();
  for (const f of bundle.fragments) {
    if (!fragments.has(f.profile_id)) fragments.set(f.profile_id, []);
    fragments.get(f.profile_id)!.push({
      dataset: f.dataset,
      namespace: f.namespace,
      value: f.value,
      attributes: JSON.parse(f.attributes),
      updatedAt: f.updated_at,
    });
  }
  const identities = new Map<string, { namespace: string; id: string }[]>();
  for (const i of bundle.identities)
    identities.set(i.profile_id, [
      ...(identities.get(i.profile_id) ?? []),
      { namespace: i.namespace, id: i.value },
    ]);
  const rows: Row[] = [];
  for (const p of bundle.profiles) {
    const merged = mergeFragments(fragments.get(p.id) ?? [], policy).attributes;
    const consent = consentOf(p.id);
    // Marketing denied — by a recorded choice, or by the older `consent.marketing = "n"` attribute — stays out
    // unless the destination includes such profiles; purposes the destination declared must all be granted.
    const marketingDenied =
      !isGranted(consent, "marketing") ||
      (consent.marketing?.source === "default" &&
        (merged.consent as Record<string, unknown> | undefined)?.marketing === "n");
    if (marketingDenied && !config.includeNoConsent) continue;
    if (!grantsAll(consent, config.purposes)) continue;
    rows.push({
      profileId: p.id,
      primaryNamespace: p.primary_namespace,
      primaryId: p.primary_value,
      identities: identities.get(p.id) ?? [],
      attributes: config.attributes ? allowListed(merged, config.attributes) : merged,
      updatedAt: p.updated_at,
    });
  }
  return { rows, next: ids.at(-1) ?? after, last: ids.length < size };
}

/** Writes one part; returns the next job, or undefined when the run is complete. */
export async function runExportPage(env: Bindings, job: ExportJob): Promise<ExportJob | undefined> {
  const db = createDb(env.DB);
  const run = await getRun(db, job.runId);
  if (!run || run.status === "completed" || run.status === "failed") return undefined;
  const plan = planOf(run.cursor);
  if (job.part <= plan.part)
    return { kind: "export-page", runId: job.runId, part: plan.part + 1, after: plan.after }; // redelivered

  const destination = await getDestination(db, run.destination);
  if (!destination) {
    await updateRun(db, run.id, {
      status: "failed",
      error: "the destination was deleted",
      finishedAt: Date.now(),
    });
    return undefined;
  }
  const config = destination.config as unknown as DestinationConfig;
  const { rows, next, last } = await pageRows(env, config, plan, job.after);

  const store = storeFor(env, config);
  const folder = runFolder(config.prefix, plan.content, plan.date, run.id);
  const parts = run.parts as PartInfo[];
  if (rows.length > 0) {
    const name = `part-${String(job.part).padStart(5, "0")}.${extensionOf(plan.format)}`;
    const body = await encodePart(plan.format, plan.content, rows);
    await store.put(`${folder}${name}`, body, contentTypeOf(plan.format));
    parts.push({
      name,
      path: `${folder}${name}`,
      rows: rows.length,
      bytes: body.length,
      sha256: await sha256Hex(body),
    });
  }
  const written = run.rows + rows.length;
  const cursor = JSON.stringify({ ...plan, part: job.part, after: next } satisfies RunPlan);
  if (!last) {
    await updateRun(db, run.id, {
      status: "running",
      parts,
      profiles: written,
      rows: written,
      cursor,
    });
    return { kind: "export-page", runId: run.id, part: job.part + 1, after: next };
  }
  const finishedAt = Date.now();
  const manifestKey = `${folder}manifest.json`;
  const manifest = {
    runId: run.id,
    destination: destination.name,
    type: config.type,
    content: plan.content,
    format: plan.format,
    mode: plan.mode,
    since:
      plan.mode === "incremental"
        ? plan.content === "events"
          ? { afterEvent: plan.since }
          : new Date(plan.since).toISOString()
        : null,
    createdAt: new Date(run.startedAt).toISOString(),
    completedAt: new Date(finishedAt).toISOString(),
    mergePolicy: plan.content === "profiles" ? (config.mergePolicy ?? "default") : null,
    segment: config.segment ?? null,
    attributes: config.attributes ?? null,
    includeNoConsent: config.includeNoConsent,
    rows: written,
    profiles: plan.content === "profiles" ? written : undefined,
    parts,
  };
  await store.put(
    manifestKey,
    new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
    "application/json",
  );
  await updateRun(db, run.id, {
    status: "completed",
    parts,
    profiles: written,
    rows: written,
    cursor,
    manifest: manifestKey,
    finishedAt,
  });
  return undefined;
}

export async function failRun(env: Bindings, runId: string, error: string): Promise<void> {
  await updateRun(createDb(env.DB), runId, { status: "failed", error, finishedAt: Date.now() });
}

const PERIOD = { hourly: 3600_000, daily: 86_400_000 } as const;

/** Cron: starts the scheduled destinations that are due. */
export async function startDueExports(env: Bindings, now: number): Promise<number> {
  let started = 0;
  for (const d of await listDestinations(createDb(env.DB))) {
    if (d.schedule !== "hourly" && d.schedule !== "daily") continue;
    if (d.lastRunAt && now - d.lastRunAt < PERIOD[d.schedule] - 60_000) continue;
    await startExport(env, d.name, "schedule");
    started++;
  }
  return started;
}

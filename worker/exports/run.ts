/**
 * Export runs (SPEC "Destinations"): merged profiles as gzip NDJSON parts plus a
 * manifest.json, one page of profiles per queue message so a run of any size fits the
 * Worker's memory and CPU limits and resumes after a failure. Erased profiles are gone
 * from the tables, so they never appear; consent.marketing = "n" is left out unless the
 * destination says otherwise. Files live under <prefix><destination>/<runId>/, so a
 * retried run overwrites only its own files.
 */
import type { DestinationConfig } from "../../shared/schemas/destinations";
import { createDb } from "../db/client";
import { createRun, exportBundle, exportPageFacts, getDestination, getRun, listDestinations, updateRun, type PartInfo } from "../db/queries/exports";
import type { Bindings } from "../env";
import { allowListed } from "../personalization/context";
import { mergeFragments, type FragmentInput } from "../profiles/merge";
import { resolvePolicy } from "../profiles/service";
import { storeFor } from "./storage";

export const EXPORT_PAGE = 1000;

export interface ExportJob {
  kind: "export-page";
  runId: string;
  part: number;
  after: string;
}

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const folder = (config: DestinationConfig, destination: string, runId: string) => `${config.prefix}${destination}/${runId}/`;

export async function startExport(env: Bindings, destination: string, trigger: string, runId = `run_${crypto.randomUUID()}`): Promise<string> {
  const db = createDb(env.DB);
  await createRun(db, { id: runId, destination, trigger });
  await env.JOBS_QUEUE.send({ kind: "export-page", runId, part: 1, after: "" } satisfies ExportJob);
  return runId;
}

/** How far a run got: the last part written and the profile id it ended at. */
export function exportProgress(cursor: string | null): { part: number; after: string } {
  return cursor ? (JSON.parse(cursor) as { part: number; after: string }) : { part: 0, after: "" };
}

/** Writes one part; returns the next job, or undefined when the run is complete. */
export async function runExportPage(env: Bindings, job: ExportJob): Promise<ExportJob | undefined> {
  const db = createDb(env.DB);
  const run = await getRun(db, job.runId);
  if (!run || run.status === "completed" || run.status === "failed") return undefined;
  const done = exportProgress(run.cursor);
  if (job.part <= done.part) return { kind: "export-page", runId: job.runId, part: done.part + 1, after: done.after }; // redelivered

  const destination = await getDestination(db, run.destination);
  if (!destination) {
    await updateRun(db, run.id, { status: "failed", error: "the destination was deleted", finishedAt: Date.now() });
    return undefined;
  }
  const config = destination.config as unknown as DestinationConfig;
  const policy = await resolvePolicy(db, config.mergePolicy);
  const ids = await exportPageFacts(env.DB, job.after, EXPORT_PAGE, config.segment);
  const bundle = await exportBundle(env.DB, ids);

  const fragments = new Map<string, FragmentInput[]>();
  for (const f of bundle.fragments) {
    if (!fragments.has(f.profile_id)) fragments.set(f.profile_id, []);
    fragments.get(f.profile_id)!.push({ dataset: f.dataset, namespace: f.namespace, value: f.value, attributes: JSON.parse(f.attributes), updatedAt: f.updated_at });
  }
  const identities = new Map<string, { namespace: string; id: string }[]>();
  for (const i of bundle.identities) identities.set(i.profile_id, [...(identities.get(i.profile_id) ?? []), { namespace: i.namespace, id: i.value }]);

  const lines: string[] = [];
  for (const p of bundle.profiles) {
    const merged = mergeFragments(fragments.get(p.id) ?? [], policy).attributes;
    const consent = (merged.consent as Record<string, unknown> | undefined)?.marketing;
    if (consent === "n" && !config.includeNoConsent) continue;
    lines.push(
      JSON.stringify({
        profileId: p.id,
        primaryIdentity: { namespace: p.primary_namespace, id: p.primary_value },
        identities: identities.get(p.id) ?? [],
        attributes: config.attributes ? allowListed(merged, config.attributes) : merged,
        updatedAt: new Date(p.updated_at).toISOString(),
      }),
    );
  }

  const store = storeFor(env, config);
  const parts = run.parts as PartInfo[];
  if (lines.length > 0) {
    const name = `part-${String(job.part).padStart(5, "0")}.ndjson.gz`;
    const body = await gzip(`${lines.join("\n")}\n`);
    await store.put(`${folder(config, destination.name, run.id)}${name}`, body, "application/gzip");
    parts.push({ name, rows: lines.length, bytes: body.length, sha256: await sha256(body) });
  }
  const after = ids.length ? ids[ids.length - 1]! : job.after;
  const profiles = run.profiles + lines.length;
  const last = ids.length < EXPORT_PAGE;
  if (!last) {
    await updateRun(db, run.id, { status: "running", parts, profiles, cursor: JSON.stringify({ part: job.part, after }) });
    return { kind: "export-page", runId: run.id, part: job.part + 1, after };
  }
  const finishedAt = Date.now();
  const manifest = {
    runId: run.id,
    destination: destination.name,
    type: config.type,
    createdAt: new Date(run.startedAt).toISOString(),
    completedAt: new Date(finishedAt).toISOString(),
    mergePolicy: policy.name,
    segment: config.segment ?? null,
    attributes: config.attributes ?? null,
    includeNoConsent: config.includeNoConsent,
    profiles,
    parts,
  };
  await store.put(`${folder(config, destination.name, run.id)}manifest.json`, new TextEncoder().encode(JSON.stringify(manifest, null, 2)), "application/json");
  await updateRun(db, run.id, { status: "completed", parts, profiles, cursor: JSON.stringify({ part: job.part, after }), finishedAt });
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

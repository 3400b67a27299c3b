/**
 * Retention (SPEC §5 "Retention and the archive"), run daily from the cron and on demand.
 * A maintenance run is a chain of queue jobs, each one bounded step:
 *
 * 1. events: per dataset with `ttlDays`, a page of its oldest expired events is written to
 *    the archive destination as a Parquet part (when one is set), then removed through
 *    the GraphWriter as a background slice: the profiles those events belong to are
 *    re-evaluated for segments with event conditions *as if the events were gone*, and
 *    the deletion and the membership changes commit in one batch — a segment window never
 *    loses an event without the segment hearing of it.
 * 2. profiles: pages of profiles are checked for pseudonymous expiry (only pseudonymous
 *    identities, none seen for `pseudonymousProfileDays`); expired ones are removed with
 *    their data and links in the writer, and the graph history keeps a `delete` entry.
 *
 * Every step records where it got to in the run in the same D1 batch as its deletions, so
 * a redelivered or retried job continues instead of repeating, and a crash can never
 * leave events deleted but not counted. An archive part is written before its events are
 * deleted, under a name derived from its position and its first and last event, so a crash
 * in between rewrites the same file with the same rows, and a different page can never
 * overwrite it. A run that stops making progress (a lost queue message) is resumed by the
 * stalled-work sweep (./resume.ts) from its recorded step. The writer's half of each step
 * is `writer/slices/retention.ts`.
 */

import { sha256Hex } from "../../shared/digest";
import type { RetentionSettings } from "../../shared/schemas/config";
import type { DestinationConfig } from "../../shared/schemas/destinations";
import { createDb } from "../db/client";
import { listDatasets } from "../db/queries/datasets";
import { getDestination } from "../db/queries/exports";
import {
  createMaintenanceRun,
  expiredEventsPage,
  getMaintenanceRun,
  listMaintenanceRuns,
  updateMaintenanceRun,
} from "../db/queries/retention";
import { getSetting } from "../db/queries/settings";
import { contentTypeOf, encodePart, eventRow } from "../exports/formats";
import { runFolder } from "../exports/run";
import { storeFor } from "../exports/storage";
import type { Bindings } from "../model/bindings";
import type { MaintenanceCursor, MaintenanceJob, PartInfo, StepProgress } from "../model/jobs";
import { deploymentOf } from "../writer/client";
import type { GraphWriterApi } from "../writer/types";
import { afterProfilesPage, EVENT_SLICE } from "./steps";

export type { MaintenanceCursor, MaintenanceJob } from "../model/jobs";
export { EVENT_SLICE } from "./steps";

export const RETENTION_SETTING = "retention";
const DAY_MS = 86_400_000;

export async function retentionSettings(
  db: ReturnType<typeof createDb>,
): Promise<RetentionSettings> {
  return (await getSetting(db, RETENTION_SETTING)) ?? {};
}

export async function startMaintenance(
  env: Bindings,
  trigger: string,
  now = Date.now(),
): Promise<string> {
  const db = createDb(env.DB);
  const runId = `mnt_${crypto.randomUUID()}`;
  const { shards } = await deploymentOf(env);
  const datasets = (await listDatasets(db))
    .filter((d) => d.ttlDays && d.kind !== "records")
    .map((d) => d.name)
    .sort();
  const cursor: MaintenanceCursor = {
    step: 0,
    phase: "events",
    datasets,
    part: 0,
    after: "",
    now,
    date: new Date(now).toISOString().slice(0, 10),
    ...(shards > 1 ? { walk: { shard: 0, shards } } : {}),
  };
  await createMaintenanceRun(db, runId, trigger, cursor as unknown as Record<string, unknown>, now);
  await env.JOBS_QUEUE.send({ kind: "maintenance", runId, step: 1 } satisfies MaintenanceJob);
  return runId;
}

/** Cron: one run a day, when retention has anything to do. */
export async function startDueMaintenance(env: Bindings, now: number): Promise<boolean> {
  const db = createDb(env.DB);
  const [latest] = await listMaintenanceRuns(db, 1);
  if (latest && now - latest.startedAt < DAY_MS - 60_000) return false;
  const settings = await retentionSettings(db);
  const anyTtl = (await listDatasets(db)).some((d) => d.ttlDays);
  if (!anyTtl && !settings.pseudonymousProfileDays) return false;
  await startMaintenance(env, "schedule", now);
  return true;
}

/** The operations a step asks of the GraphWriter (so tests and the writer share one path). */
export type RetentionWriter = Pick<GraphWriterApi, "expireEvents" | "expireProfiles">;

/** Runs one step; returns the next job, or undefined when the run is over. */
export async function runMaintenanceStep(
  env: Bindings,
  writer: RetentionWriter,
  job: MaintenanceJob,
): Promise<MaintenanceJob | undefined> {
  const db = createDb(env.DB);
  const run = await getMaintenanceRun(db, job.runId);
  if (!run || run.status === "completed" || run.status === "failed") return undefined;
  const cursor = run.cursor as unknown as MaintenanceCursor;
  if (job.step <= cursor.step) return { kind: "maintenance", runId: run.id, step: cursor.step + 1 }; // redelivered
  const settings = await retentionSettings(db);
  const next: MaintenanceCursor = { ...cursor, step: job.step };
  const counts = {
    eventsExpired: run.eventsExpired,
    eventsArchived: run.eventsArchived,
    profilesExpired: run.profilesExpired,
  };
  const parts = run.parts as PartInfo[];

  if (cursor.phase === "events") {
    const name = cursor.datasets[0];
    const dataset = name ? (await listDatasets(db)).find((d) => d.name === name) : undefined;
    if (!name || !dataset?.ttlDays) {
      // All datasets done (or one lost its TTL since the run started).
      Object.assign(
        next,
        name ? { datasets: cursor.datasets.slice(1) } : { phase: "profiles", after: "" },
      );
    } else {
      const expired = await expiredEventsPage(
        env.DB,
        name,
        cursor.now - dataset.ttlDays * DAY_MS,
        EVENT_SLICE,
      );
      if (expired.length > 0 && settings.archiveDestination) {
        const destination = await getDestination(db, settings.archiveDestination);
        if (!destination || destination.type === "webhook")
          throw new Error(
            `the archive destination "${settings.archiveDestination}" is missing or not a file store`,
          );
        const config = destination.config as unknown as DestinationConfig;
        const rows = expired.map(eventRow);
        const body = await encodePart("parquet", "events", rows);
        const partNo = cursor.part + 1;
        // Position and content: a rewrite after a crash has the same name and bytes; another page another name.
        const tag = (
          await sha256Hex(new TextEncoder().encode(`${expired[0]!.id}\n${expired.at(-1)!.id}`))
        ).slice(0, 12);
        const path = `${runFolder(config.prefix, "events", cursor.date, run.id)}part-${String(partNo).padStart(5, "0")}-${tag}.parquet`;
        await storeFor(env, config).put(path, body, contentTypeOf("parquet"));
        parts.push({
          name: path.slice(path.lastIndexOf("/") + 1),
          path,
          rows: rows.length,
          bytes: body.length,
          sha256: await sha256Hex(body),
        });
        counts.eventsArchived += rows.length;
        next.part = partNo;
      }
      if (expired.length < EVENT_SLICE) next.datasets = cursor.datasets.slice(1);
      if (expired.length > 0) {
        const progress: StepProgress = {
          runId: run.id,
          cursor: next,
          counts: { ...counts },
          parts,
        };
        counts.eventsExpired += (
          await writer.expireEvents(
            expired.map((e) => e.id),
            cursor.now,
            progress,
          )
        ).deleted;
      }
    }
  } else if (cursor.phase === "profiles") {
    if (!settings.pseudonymousProfileDays) next.phase = "done";
    else {
      const progress: StepProgress = { runId: run.id, cursor: next, counts: { ...counts }, parts };
      const result = await writer.expireProfiles(
        cursor.now - settings.pseudonymousProfileDays * DAY_MS,
        cursor.after,
        cursor.now,
        progress,
      );
      counts.profilesExpired += result.expired;
      Object.assign(next, afterProfilesPage(next, result));
    }
  }

  if (next.phase === "done" || cursor.phase === "done") {
    if (parts.length > 0 && settings.archiveDestination)
      await writeArchiveManifest(env, settings.archiveDestination, run.id, cursor, parts, counts);
    await updateMaintenanceRun(db, run.id, {
      ...counts,
      parts,
      cursor: next as unknown as Record<string, unknown>,
      status: "completed",
      finishedAt: Date.now(),
    });
    return undefined;
  }
  await updateMaintenanceRun(db, run.id, {
    ...counts,
    parts,
    cursor: next as unknown as Record<string, unknown>,
    status: "running",
  });
  return { kind: "maintenance", runId: run.id, step: job.step + 1 };
}

export async function failMaintenance(env: Bindings, runId: string, error: string): Promise<void> {
  await updateMaintenanceRun(createDb(env.DB), runId, {
    status: "failed",
    error,
    finishedAt: Date.now(),
  });
}

async function writeArchiveManifest(
  env: Bindings,
  destinationName: string,
  runId: string,
  cursor: MaintenanceCursor,
  parts: PartInfo[],
  counts: { eventsArchived: number },
) {
  const destination = await getDestination(createDb(env.DB), destinationName);
  if (!destination) return;
  const config = destination.config as unknown as DestinationConfig;
  const manifest = {
    runId,
    kind: "retention-archive",
    content: "events",
    format: "parquet",
    createdAt: new Date(cursor.now).toISOString(),
    rows: counts.eventsArchived,
    parts,
  };
  await storeFor(env, config).put(
    `${runFolder(config.prefix, "events", cursor.date, runId)}manifest.json`,
    new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
    "application/json",
  );
}

/**
 * Resumes background work that stalled (SPEC: an accepted batch is never lost). Every
 * step of a batch file, export run, segment evaluation, computed attribute backfill, graph run and retention run records its progress, and
 * every step is idempotent, so re-sending the next step of anything that has not
 * progressed for `staleMs` is safe: at worst a step runs twice and counts once.
 * Runs from the Cron Trigger (and, locally, when `npm start` starts the Worker).
 */
import type { BatchMessage } from "../batches/process";
import {
  claimStalledBatches,
  claimStalledComputed,
  claimStalledExportRuns,
  claimStalledGraphRuns,
  claimStalledMaintenanceRuns,
  claimStalledSegmentEvaluations,
} from "../db/queries/stalled";
import { type ExportJob, exportProgress } from "../exports/run";
import type { Bindings } from "../model/bindings";
import type { ComputedJob, GraphRunJob, SegmentJob } from "../model/jobs";
import type { MaintenanceJob } from "./retention";

const DEFAULT_STALE_SECONDS = 120;

function staleMs(env: Bindings): number {
  const seconds = Number(env.TESSERA_STALE_SECONDS ?? DEFAULT_STALE_SECONDS);
  return (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_STALE_SECONDS) * 1000;
}

interface Resumed {
  batches: number;
  exports: number;
  segments: number;
  computed: number;
  graphRuns: number;
  retention: number;
}

export async function resumeStalledWork(env: Bindings, now = Date.now()): Promise<Resumed> {
  const olderThan = now - staleMs(env);
  const [batches, runs, segments, computed, graphRuns, retention] = await Promise.all([
    claimStalledBatches(env.DB, olderThan, now),
    claimStalledExportRuns(env.DB, olderThan, now),
    claimStalledSegmentEvaluations(env.DB, olderThan, now),
    claimStalledComputed(env.DB, olderThan, now),
    claimStalledGraphRuns(env.DB, olderThan, now),
    claimStalledMaintenanceRuns(env.DB, olderThan, now),
  ]);
  const batchMessages = batches.map(
    (b): BatchMessage =>
      b.lastChunk === null
        ? { batchId: b.id, chunk: 0, offset: 0, line: 1 }
        : { batchId: b.id, chunk: b.lastChunk + 1, offset: b.nextOffset, line: b.nextLine },
  );
  const jobs: (ExportJob | SegmentJob | ComputedJob | GraphRunJob | MaintenanceJob)[] = [
    ...runs.map((r): ExportJob => {
      const done = exportProgress(r.cursor);
      return { kind: "export-page", runId: r.id, part: done.part + 1, after: done.after };
    }),
    ...segments.map(
      (s): SegmentJob => ({
        kind: "segment-evaluate",
        segmentId: s.id,
        version: s.version,
        after: s.after,
        evaluated: s.evaluated,
      }),
    ),
    ...computed.map(
      (a): ComputedJob => ({
        kind: "computed-backfill",
        attributeId: a.id,
        version: a.version,
        after: a.after,
        computed: a.computed,
      }),
    ),
    ...graphRuns.map(
      (r): GraphRunJob => ({
        kind: "graph-run",
        runId: r.id,
        after: r.after,
        scope: JSON.parse(r.scope),
        blocked: JSON.parse(r.blocked),
      }),
    ),
    ...retention.map(
      (r): MaintenanceJob => ({ kind: "maintenance", runId: r.id, step: r.step + 1 }),
    ),
  ];
  if (batchMessages.length > 0)
    await env.BATCH_QUEUE.sendBatch(batchMessages.map((body) => ({ body })));
  if (jobs.length > 0) await env.JOBS_QUEUE.sendBatch(jobs.map((body) => ({ body })));
  const resumed = {
    batches: batches.length,
    exports: runs.length,
    segments: segments.length,
    computed: computed.length,
    graphRuns: graphRuns.length,
    retention: retention.length,
  };
  if (Object.values(resumed).some((n) => n > 0))
    console.log(`resumed stalled work: ${JSON.stringify(resumed)}`);
  return resumed;
}

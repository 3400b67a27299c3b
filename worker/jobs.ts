/**
 * Queue and cron entry points. Batch file chunks have their own queue; everything else
 * background (segment evaluation pages) goes through the jobs queue. Every job step is
 * idempotent, so at-least-once delivery is safe.
 */
import { type BatchMessage, handleBatchQueue } from "./batches/process";
import { type ExportJob, failRun, runExportPage, startDueExports } from "./exports/run";
import { PermanentStoreError } from "./exports/storage";
import { resumeStalledWork } from "./maintenance/resume";
import {
  failMaintenance,
  type MaintenanceJob,
  runMaintenanceStep,
  startDueMaintenance,
} from "./maintenance/retention";
import type { Bindings } from "./model/bindings";
import type { ComputedJob, GraphRunJob, SegmentJob } from "./model/jobs";
import { deliver, sweepDueDeliveries, type WebhookMessage } from "./webhooks/send";
import {
  computedPage,
  graphRunPage,
  rechecks,
  retentionWriter,
  segmentPage,
} from "./writer/client";

type Job = SegmentJob | ComputedJob | GraphRunJob | ExportJob | MaintenanceJob;
const MAX_JOB_ATTEMPTS = 5;

async function handleJobsQueue(batch: MessageBatch<Job>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    try {
      const job = message.body;
      if (job.kind === "segment-evaluate") {
        const next = await segmentPage(env, job);
        if (next) await env.JOBS_QUEUE.send(next);
      } else if (job.kind === "computed-backfill") {
        const next = await computedPage(env, job);
        if (next) await env.JOBS_QUEUE.send(next);
      } else if (job.kind === "graph-run") {
        const next = await graphRunPage(env, job);
        if (next) await env.JOBS_QUEUE.send(next);
      } else if (job.kind === "export-page") {
        const next = await runExportPage(env, job);
        if (next) await env.JOBS_QUEUE.send(next);
      } else if (job.kind === "maintenance") {
        const next = await runMaintenanceStep(env, await retentionWriter(env), job);
        if (next) await env.JOBS_QUEUE.send(next);
      }
      message.ack();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      console.error(`job ${message.body.kind} failed (attempt ${message.attempts}): ${reason}`);
      if (message.attempts >= MAX_JOB_ATTEMPTS || err instanceof PermanentStoreError) {
        if (message.body.kind === "export-page") await failRun(env, message.body.runId, reason);
        if (message.body.kind === "maintenance")
          await failMaintenance(env, message.body.runId, reason);
        message.ack();
      } else {
        message.retry({ delaySeconds: Math.min(2 ** message.attempts, 60) });
      }
    }
  }
}

/** All messages of a batch at once: deliver() hands each destination's ids to its own lane. */
async function handleWebhookQueue(
  batch: MessageBatch<WebhookMessage>,
  env: Bindings,
): Promise<void> {
  try {
    await deliver(env, [...new Set(batch.messages.flatMap((m) => m.body.ids))]);
    batch.ackAll();
  } catch (err) {
    // Attempts are recorded per delivery; this only covers D1 being unreachable.
    const attempts = Math.max(...batch.messages.map((m) => m.attempts));
    console.error(
      `webhook delivery batch failed (attempt ${attempts}): ${err instanceof Error ? err.message : err}`,
    );
    batch.retryAll({ delaySeconds: Math.min(2 ** attempts, 60) });
  }
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  if (batch.queue.startsWith("tessera-batches"))
    return handleBatchQueue(batch as MessageBatch<BatchMessage>, env);
  if (batch.queue.startsWith("tessera-webhooks"))
    return handleWebhookQueue(batch as MessageBatch<WebhookMessage>, env);
  return handleJobsQueue(batch as MessageBatch<Job>, env);
}

/** Cron: resume stalled work; start due exports and the daily retention run; exit members whose time window has passed (bounded work per run). */
export async function handleScheduled(
  controller: ScheduledController,
  env: Bindings,
): Promise<void> {
  await resumeStalledWork(env);
  await sweepDueDeliveries(env);
  await startDueExports(env, controller.scheduledTime);
  await startDueMaintenance(env, controller.scheduledTime);
  const deadline = Date.now() + 20_000;
  let total = 0;
  while (Date.now() < deadline) {
    const n = await rechecks(env, controller.scheduledTime);
    total += n;
    if (n === 0) break;
  }
  if (total > 0)
    console.log(`cron ${controller.cron}: re-evaluated ${total} profile${total === 1 ? "" : "s"}`);
}

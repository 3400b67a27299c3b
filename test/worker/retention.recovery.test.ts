/**
 * Retention survives crashes (SPEC §5 "Retention and the archive"): a step killed after the
 * writer deleted its events, a step killed after its archive part was written but before
 * the deletion, and a run whose next queue message is lost. The run still completes with
 * exact counts, and every expired event is in the archive exactly once (read back from the
 * Parquet files with hyparquet, not from Tessera's bookkeeping).
 */
import { env } from "cloudflare:test";
import { gunzipSync } from "fflate";
import { parquetReadObjects } from "hyparquet";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../worker/db/client";
import { createMaintenanceRun, getMaintenanceRun } from "../../worker/db/queries/retention";
import { resumeStalledWork } from "../../worker/maintenance/resume";
import {
  EVENT_SLICE,
  type MaintenanceCursor,
  type RetentionWriter,
  runMaintenanceStep,
} from "../../worker/maintenance/retention";
import { retentionWriter } from "../../worker/writer/client";
import { api, id, iso, postEvents, putDataset, putDestination, send } from "../helpers";
import { poll } from "../poll";

const DAY = 86_400_000;
const EXPIRED = 2_500;
const runId = "mnt_recovery_test";
const now = Date.now();

class Crash extends Error {}

/** The real writer, killed right after it committed (the step's own bookkeeping never runs). */
const killedAfterCommit = (writer: RetentionWriter): RetentionWriter => ({
  expireEvents: async (...args) => {
    await writer.expireEvents(...args);
    throw new Crash("killed after the commit");
  },
  expireProfiles: (...args) => writer.expireProfiles(...args),
});
/** Killed after the archive part was written, before anything was deleted. */
const killedBeforeCommit = (writer: RetentionWriter): RetentionWriter => ({
  expireEvents: async () => {
    throw new Crash("killed before the commit");
  },
  expireProfiles: (...args) => writer.expireProfiles(...args),
});

beforeAll(async () => {
  expect(await putDataset("rec-web", { kind: "events", ttlDays: 30 })).toHaveStatus(200);
  expect(
    await putDestination("rec-archive", { type: "r2", prefix: "rec/", schedule: "manual" }),
  ).toHaveStatus(200);
  expect(
    await send(api.v1.settings.retention.$put({ json: { archiveDestination: "rec-archive" } })),
  ).toHaveStatus(200);
  for (let c = 0; c < EXPIRED / 500; c++) {
    await postEvents(
      Array.from({ length: 500 }, (_, i) => ({
        id: `rec-${c}-${i}`,
        type: "rec.visit",
        dataset: "rec-web",
        timestamp: iso(now - 40 * DAY - i * 1000),
        identities: [id("crm", `REC-${i % 50}`)],
      })),
    );
  }
  // Recent events stay.
  await postEvents([
    {
      id: "rec-recent",
      type: "rec.visit",
      dataset: "rec-web",
      timestamp: iso(now - DAY),
      identities: [id("crm", "REC-0")],
    },
  ]);
  // The run as startMaintenance creates it, but with no queue message: the test drives its steps.
  const cursor: MaintenanceCursor = {
    step: 0,
    phase: "events",
    datasets: ["rec-web"],
    part: 0,
    after: "",
    now,
    date: new Date(now).toISOString().slice(0, 10),
  };
  await createMaintenanceRun(
    createDb(env.DB),
    runId,
    "test",
    cursor as unknown as Record<string, unknown>,
    now,
  );
});

describe("retention after crashes", () => {
  it("completes with exact counts, and the archive holds every expired event exactly once", {
    timeout: 60_000,
  }, async () => {
    const writer = await retentionWriter(env);
    const run = () => getMaintenanceRun(createDb(env.DB), runId);

    // Step 1 is killed after its deletion committed: the progress went in the same batch.
    await expect(
      runMaintenanceStep(env, killedAfterCommit(writer), { kind: "maintenance", runId, step: 1 }),
    ).rejects.toThrow(Crash);
    expect(await run()).toMatchObject({ eventsExpired: EVENT_SLICE, eventsArchived: EVENT_SLICE });
    // Its redelivery does nothing again and hands on to step 2.
    expect(await runMaintenanceStep(env, writer, { kind: "maintenance", runId, step: 1 })).toEqual({
      kind: "maintenance",
      runId,
      step: 2,
    });

    // Step 2 is killed after writing its archive part, before deleting: the retry rewrites that same part.
    await expect(
      runMaintenanceStep(env, killedBeforeCommit(writer), { kind: "maintenance", runId, step: 2 }),
    ).rejects.toThrow(Crash);
    expect(await runMaintenanceStep(env, writer, { kind: "maintenance", runId, step: 2 })).toEqual({
      kind: "maintenance",
      runId,
      step: 3,
    });

    // Step 3's message is lost: the stalled-work sweep resumes the run from what it recorded.
    const resumed = await resumeStalledWork(env, Date.now() + 10 * 60_000);
    expect(resumed.retention).toBe(1);
    const done = await poll(
      run,
      (r) => r?.status === "completed" || r?.status === "failed",
      "the resumed retention run",
    );
    expect(done).toMatchObject({
      status: "completed",
      eventsExpired: EXPIRED,
      eventsArchived: EXPIRED,
    });

    // The archive, read back: every expired event once, nothing else.
    const listed = await env.FILES.list({ prefix: "rec/" });
    const files = listed.objects.filter((o) => o.key.endsWith(".parquet"));
    expect(files.map((f) => f.key).sort()).toEqual(
      (done!.parts as { path: string }[]).map((p) => p.path).sort(),
    );
    const ids: string[] = [];
    for (const file of files) {
      const rows = await parquetReadObjects({
        file: await (await env.FILES.get(file.key))!.arrayBuffer(),
        columns: ["eventId"],
        compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) },
      });
      ids.push(...rows.map((r) => String(r.eventId)));
    }
    expect(ids).toHaveLength(EXPIRED);
    expect(new Set(ids).size).toBe(EXPIRED);
    expect(ids).not.toContain("rec-recent");
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE dataset = 'rec-web'",
    ).first<{ n: number }>();
    expect(left!.n).toBe(1);
  });
});

/**
 * Retention (SPEC §5): events past their dataset's TTL leave lookups, timelines, segments
 * and exports, and land in the archive as Parquet first; idle device-only profiles expire,
 * profiles with a person identity stay, and graph history keeps the deletion.
 */

import { createScheduledController, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../worker/index";
import {
  api,
  id,
  iso,
  lookup,
  postEvents,
  putDataset,
  putDestination,
  putSegment,
  send,
  unwrap,
} from "../helpers";
import { poll } from "../poll";

const DAY = 86_400_000;
const now = Date.now();
const ago = (days: number) => iso(now - days * DAY);

const eventsOf = async (ns: string, value: string) => {
  const res = await lookup(ns, value, { include: "events,segments" });
  expect(res.status, res.text).toBe(200);
  return res.json;
};

let run: NonNullable<RunsAnswer["items"][number]>;
type RunsAnswer = Awaited<ReturnType<typeof listMaintenanceRuns>>;
const listMaintenanceRuns = () => unwrap(api.v1.maintenance.runs.$get());
beforeAll(async () => {
  expect(await putDataset("ret-web", { kind: "events", ttlDays: 30 })).toHaveStatus(200);
  expect(
    await putDestination("ret-archive", { type: "r2", prefix: "archive/", schedule: "manual" }),
  ).toHaveStatus(200);
  const settings = await send(
    api.v1.settings.retention.$put({
      json: { pseudonymousProfileDays: 60, archiveDestination: "ret-archive" },
    }),
  );
  expect(settings.status, settings.text).toBe(200);
  await putSegment("ret-regulars", {
    name: "Regulars",
    rule: { event: "ret.visit", within: "P90D", count: { gte: 2 } },
  });

  await postEvents([
    {
      id: "ret-old-visit",
      type: "ret.visit",
      dataset: "ret-web",
      timestamp: ago(40),
      identities: [id("crm", "RET-A")],
      data: { page: "/old" },
    },
    {
      id: "ret-new-visit",
      type: "ret.visit",
      dataset: "ret-web",
      timestamp: ago(5),
      identities: [id("crm", "RET-A")],
      data: { page: "/new" },
    },
    // Another dataset without a TTL keeps its old events.
    {
      id: "ret-old-other",
      type: "ret.other",
      timestamp: ago(40),
      identities: [id("crm", "RET-A")],
    },
    // Device-only and idle for 100 days: expires. Device-only but recent: stays.
    {
      id: "ret-d1",
      type: "page.view",
      timestamp: ago(100),
      identities: [id("device", "ret-old-device-0001")],
    },
    {
      id: "ret-d2",
      type: "page.view",
      timestamp: ago(3),
      identities: [id("device", "ret-new-device-0001")],
    },
    // Idle for 100 days too, but with a CRM identity: a person, kept.
    {
      id: "ret-k",
      type: "page.view",
      timestamp: ago(100),
      identities: [id("crm", "RET-K"), id("device", "ret-k-device-00001")],
    },
  ]);
  await poll(
    () => send(api.v1.segments[":id"].$get({ param: { id: "ret-regulars" } })),
    (r) => r.json.status === "ready",
    "the segment",
  );
  expect((await eventsOf("crm", "RET-A")).segments).toContainEqual(
    expect.objectContaining({ id: "ret-regulars", status: "realized" }),
  );

  const started = await send(api.v1.maintenance.runs.$post());
  expect(started.status, started.text).toBe(202);
  const finished = await poll(
    async () => (await listMaintenanceRuns()).items.find((r) => r.runId === started.json.runId),
    (r) => r?.status === "completed" || r?.status === "failed",
    "the maintenance run",
  );
  if (!finished) throw new Error("no maintenance run");
  run = finished;
});

describe("retention", () => {
  it("counts what it expired and archived", () => {
    expect(run).toMatchObject({
      status: "completed",
      trigger: "manual",
      eventsExpired: 1,
      eventsArchived: 1,
      profilesExpired: 1,
      error: null,
    });
  });

  it("removes events past the TTL from lookups and timelines; other datasets keep theirs", async () => {
    const profile = await eventsOf("crm", "RET-A");
    const ids = profile.events?.map((e) => e.id);
    expect(ids).not.toContain("ret-old-visit");
    expect(ids).toEqual(expect.arrayContaining(["ret-new-visit", "ret-old-other"]));
    const timeline = await send(
      api.v1.profiles[":profileId"].events.$get({
        param: { profileId: profile.profileId },
        query: {},
      }),
    );
    expect(timeline.json.items.map((e) => e.id)).not.toContain("ret-old-visit");
  });

  it("re-evaluates the segments whose window counted the expired event, in the same step", async () => {
    const profile = await eventsOf("crm", "RET-A");
    expect(profile.segments).toContainEqual(
      expect.objectContaining({ id: "ret-regulars", status: "exited" }),
    );
  });

  it("writes the expired events to the archive as Parquet before removing them", async () => {
    expect(run.parts).toHaveLength(1);
    const part = run.parts[0]!;
    expect(part.path).toMatch(
      /^archive\/content=events\/date=\d{4}-\d{2}-\d{2}\/run=mnt_[^/]+\/part-00001-[0-9a-f]{12}\.parquet$/,
    );
    expect(part.rows).toBe(1);
    const bytes = new Uint8Array(await (await env.FILES.get(part.path))!.arrayBuffer());
    expect(bytes.byteLength).toBe(part.bytes);
    expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe("PAR1");
    const manifest = JSON.parse(
      await (await env.FILES.get(
        part.path.replace(/part-00001-[0-9a-f]{12}\.parquet$/, "manifest.json"),
      ))!.text(),
    );
    expect(manifest).toMatchObject({ content: "events", format: "parquet", rows: 1 });
  });

  it("leaves expired events out of event exports", async () => {
    await putDestination("ret-events", {
      type: "r2",
      prefix: "ret-events/",
      schedule: "manual",
      content: "events",
    });
    const started = await send(
      api.v1.destinations[":name"].runs.$post({ param: { name: "ret-events" }, query: {} }),
    );
    const exported = await poll(
      async () =>
        (await send(api.v1.destinations[":name"].runs.$get({ param: { name: "ret-events" } }))).json
          .items[0],
      (r) => r?.status === "completed",
      "the export",
    );
    const text = await new Response(
      (await env.FILES.get(exported?.parts[0]?.path ?? ""))!.body.pipeThrough(
        new DecompressionStream("gzip"),
      ),
    ).text();
    const ids = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).eventId);
    expect(started).toHaveStatus(202);
    expect(ids).toContain("ret-new-visit");
    expect(ids).not.toContain("ret-old-visit");
  });

  it("expires idle device-only profiles with their data, keeps people and recent devices, and keeps the graph history", async () => {
    expect(await lookup("device", "ret-old-device-0001")).toHaveStatus(404);
    expect(await lookup("device", "ret-new-device-0001")).toHaveStatus(200);
    expect(await lookup("crm", "RET-K")).toHaveStatus(200);
    expect(await lookup("device", "ret-k-device-00001")).toHaveStatus(200);
    const left = await env.DB.prepare(
      `SELECT count(*) AS n FROM events WHERE id = 'ret-d1'`,
    ).first<{ n: number }>();
    expect(left!.n).toBe(0);
    const history = await env.DB.prepare(
      `SELECT kind, cause, identities FROM graph_history WHERE cause = 'retention'`,
    ).all<{ kind: string; cause: string; identities: string }>();
    expect(history.results).toHaveLength(1);
    expect(history.results[0]!.kind).toBe("delete");
    expect(JSON.parse(history.results[0]!.identities)).toEqual(["device:ret-old-device-0001"]);
  });
});

describe("the daily retention run", () => {
  it("starts from the cron once a day, not on every tick", async () => {
    const before = (await send(api.v1.maintenance.runs.$get())).json.items.length;
    const tick = (at: number) =>
      worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: at }), env);
    // The manual run above started less than a day ago: the next tick leaves it.
    await tick(now + 60_000);
    expect((await send(api.v1.maintenance.runs.$get())).json.items.length).toBe(before);
    await tick(now + DAY + 60_000);
    const runs = (await send(api.v1.maintenance.runs.$get())).json.items;
    expect(runs.length).toBe(before + 1);
    expect(runs[0]?.trigger).toBe("schedule");
    await tick(now + DAY + 120_000);
    expect((await send(api.v1.maintenance.runs.$get())).json.items.length).toBe(before + 1);
  });
});

/**
 * What a typical event costs in row writes (each table row and index entry is one billed
 * row, in D1 and Durable Object SQLite alike), read from the stores' own counters through
 * `GET /v1/admin/shards`, and the coarse times that keep it low: an identity's `lastSeen`
 * moves in hour steps, a profile's `updatedAt` at once for data and at most once a minute
 * for activity alone. Links keep exact times (rule 3 ranks by them).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  graphOf,
  id,
  iso,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  unwrap,
} from "../helpers";

const rowsWritten = async () => (await unwrap(api.v1.admin.shards.$get())).shards[0]!.rowsWritten;
const HOUR = 3_600_000;

beforeAll(async () => {
  await putDataset("cost-crm", { kind: "records" });
});

describe("rows written per page view", () => {
  // The event's row and its index entry by identity in both stores; in the writer its commit
  // log entry (its events are clustered by id: no separate key index), in D1 the key index,
  // the reports' index and the hour's count (the writer keeps neither). It was 11 and 9
  // before identity and profile times were coarsened, the log's slots reused, the report
  // tables left to D1 and the writer's events clustered.
  it("a page view of a known device writes 3 rows in the writer's SQLite and 5 in D1", async () => {
    const device = id("device", "cost-device-000000000001");
    const base = Date.now() - 30 * 60_000;
    await postRecords([
      {
        dataset: "cost-crm",
        identities: [id("crm", "COST-1"), device],
        attributes: { tier: "gold" },
      },
    ]);
    await postEvents([
      { type: "page.view", identities: [device], timestamp: iso(base), data: { path: "/" } },
    ]);

    const before = await rowsWritten();
    const answer = await postEvents([
      {
        type: "page.view",
        identities: [device],
        timestamp: iso(base + 60_000),
        data: { path: "/shoes" },
      },
    ]);
    expect(answer.accepted).toBe(1);
    const after = await rowsWritten();
    const shard = after.shard - before.shard;
    const projection = after.projection - before.projection;
    console.log(`rows written by one page view: writer ${shard}, D1 ${projection}`);
    expect(shard).toBeLessThanOrEqual(3);
    expect(projection).toBeLessThanOrEqual(5);
  });

  it("a call of 100 page views writes 2 rows per event in the writer's SQLite and 4 in D1, plus one per commit", async () => {
    const devices = Array.from({ length: 100 }, (_, i) =>
      id("device", `cost-batch-device-${String(i).padStart(8, "0")}`),
    );
    const at = Date.now() - 10 * 60_000;
    const view = (i: number, path: string) => ({
      type: "page.view",
      identities: [devices[i]!],
      timestamp: iso(at),
      data: { path },
    });
    await postEvents(devices.map((_, i) => view(i, "/")));
    const before = await rowsWritten();
    await postEvents(devices.map((_, i) => view(i, "/next")));
    const after = await rowsWritten();
    // Per event: its row and index entries; per commit: the log entry in the writer, the
    // hour's count in D1.
    expect(after.shard - before.shard).toBeLessThanOrEqual(100 * 2 + 1);
    expect(after.projection - before.projection).toBeLessThanOrEqual(100 * 4 + 1);
  });
});

describe("coarse times", () => {
  it("an identity's lastSeen moves in hour steps; its link's lastSeen is exact", async () => {
    const device = id("device", "cost-device-000000000002");
    const crm = id("crm", "COST-2");
    const t0 = Date.parse("2026-03-01T10:00:00Z");
    await postEvents([{ type: "login", identities: [crm, device], timestamp: iso(t0) }]);
    await postEvents([
      { type: "page.view", identities: [crm, device], timestamp: iso(t0 + 20 * 60_000) },
    ]);
    let graph = await graphOf("device", device.id);
    const seen = (g: typeof graph, ns: string) =>
      g.identities.find((i) => i.namespace === ns)!.lastSeen;
    expect(seen(graph, "device")).toBe(iso(t0));
    expect(graph.links[0]!.lastSeen).toBe(iso(t0 + 20 * 60_000));

    await postEvents([{ type: "page.view", identities: [crm, device], timestamp: iso(t0 + HOUR) }]);
    graph = await graphOf("device", device.id);
    expect(seen(graph, "device")).toBe(iso(t0 + HOUR));
    expect(seen(graph, "crm")).toBe(iso(t0 + HOUR));
    // An earlier item moves firstSeen at once.
    await postEvents([
      { type: "page.view", identities: [device], timestamp: iso(t0 - 5 * 60_000) },
    ]);
    graph = await graphOf("device", device.id);
    expect(graph.identities.find((i) => i.namespace === "device")!.firstSeen).toBe(
      iso(t0 - 5 * 60_000),
    );
  });

  it("a profile's updatedAt moves at once for a record, not for an event within the minute", async () => {
    const crm = id("crm", "COST-3");
    await postRecords([{ dataset: "cost-crm", identities: [crm], attributes: { tier: "silver" } }]);
    const first = (await lookup("crm", "COST-3")).json.updatedAt;
    await postEvents([{ type: "page.view", identities: [crm] }]);
    expect((await lookup("crm", "COST-3")).json.updatedAt).toBe(first);
    await new Promise((r) => setTimeout(r, 5));
    await postRecords([{ dataset: "cost-crm", identities: [crm], attributes: { tier: "gold" } }]);
    expect(Date.parse((await lookup("crm", "COST-3")).json.updatedAt)).toBeGreaterThan(
      Date.parse(first),
    );
  });
});

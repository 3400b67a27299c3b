import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import {
  allPages,
  api,
  having,
  id,
  iso,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  putSegment,
  send,
  unwrap,
  waitForSegment,
} from "../helpers";

const DAY = 86_400_000;

const segmentsOf = async (ns: string, value: string) =>
  (
    (await lookup(ns, value, { include: "segments" })).json.segments as {
      id: string;
      status: string;
    }[]
  )
    .filter((s) => s.status === "realized")
    .map((s) => s.id)
    .sort();

describe("segments", () => {
  it("evaluates all existing profiles in the background, then streams membership changes on ingest", async () => {
    await putDataset("loyalty", { kind: "records" });
    await postRecords(
      Array.from({ length: 30 }, (_, i) => ({
        dataset: "loyalty",
        identities: [id("crm", `SEG-${i}`)],
        attributes: { loyalty: { tier: i % 3 === 0 ? "gold" : "silver" } },
      })),
    );
    const put = await putSegment("gold-members", {
      name: "Gold members",
      public: true,
      rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
    });
    expect(put).toHaveStatus(200);
    expect(having(put.json, "status").status).toBe("evaluating");
    const ready = await waitForSegment("gold-members");
    expect(ready.size).toBe(10);
    expect(ready.evaluatedProfiles).toBeGreaterThanOrEqual(30);

    // Streaming: the ingest call itself updates membership.
    await postRecords([
      {
        dataset: "loyalty",
        identities: [id("crm", "SEG-1")],
        attributes: { loyalty: { tier: "gold" } },
      },
    ]);
    expect(await segmentsOf("crm", "SEG-1")).toEqual(["gold-members"]);
    await postRecords([
      {
        dataset: "loyalty",
        identities: [id("crm", "SEG-0")],
        attributes: { loyalty: { tier: "bronze" } },
      },
    ]);
    const exited = (await lookup("crm", "SEG-0", { include: "segments" })).json.segments;
    expect(exited).toEqual([expect.objectContaining({ id: "gold-members", status: "exited" })]);

    const members = await allPages((cursor) =>
      unwrap(
        api.v1.segments[":id"].members.$get({
          param: { id: "gold-members" },
          query: { limit: "4", ...cursor },
        }),
      ),
    );
    expect(members).toHaveLength(10);
    expect(
      (await send(api.v1.profiles.$get({ query: { segment: "gold-members", limit: "100" } }))).json
        .items,
    ).toHaveLength(10);
    const list = await send(api.v1.segments.$get());
    expect(list.json.items.find((s) => s.id === "gold-members")?.size).toBe(10);
  });

  it("event windows: frequent buyers realize on the second purchase and exit by cron when the window passes", async () => {
    await putSegment("frequent-buyers", {
      name: "Frequent buyers",
      public: true,
      rule: { event: "purchase", within: "P30D", count: { gte: 2 } },
    });
    await waitForSegment("frequent-buyers");
    const now = Date.now();
    await postEvents([
      {
        id: "fb-1",
        type: "purchase",
        timestamp: iso(now - 29.5 * DAY),
        identities: [id("crm", "FB-1")],
      },
    ]);
    expect(await segmentsOf("crm", "FB-1")).toEqual([]);
    await postEvents([
      { id: "fb-2", type: "purchase", timestamp: iso(now - DAY), identities: [id("crm", "FB-1")] },
    ]);
    expect(await segmentsOf("crm", "FB-1")).toEqual(["frequent-buyers"]);

    // A day later the older purchase has left the window: the cron job exits the member.
    const ctrl = createScheduledController({
      scheduledTime: new Date(now + DAY),
      cron: "*/5 * * * *",
    });
    await worker.scheduled(ctrl, env);
    const after = (await lookup("crm", "FB-1", { include: "segments" })).json.segments;
    expect(after).toEqual([expect.objectContaining({ id: "frequent-buyers", status: "exited" })]);
  });

  it("a changed rule re-evaluates everyone (background) and needs the segments scope", async () => {
    await putSegment("gold-members", {
      name: "Gold or silver",
      public: true,
      rule: { attr: "loyalty.tier", op: "in", value: ["gold", "silver"] },
    });
    const ready = await waitForSegment("gold-members");
    expect(ready.size).toBeGreaterThanOrEqual(29);
    const row = await env.DB.prepare(
      "SELECT version FROM segments WHERE id = 'gold-members'",
    ).first<{ version: number }>();
    expect(row!.version).toBe(2);
  });
});

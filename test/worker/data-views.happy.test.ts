/**
 * Data views over a crafted data set with known answers (SPEC §5 "Journey analytics").
 * 2025-09-01 is a Monday. Profiles: A (gold), B (silver), C (no tier).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  having,
  id,
  type JsonBody,
  postEvents,
  postRecords,
  putDataset,
  send,
  unwrap,
  viewReport,
} from "../helpers";

const ev = (type: string, who: string, at: string, data: Record<string, unknown>) => ({
  id: `dv-${type}-${who}-${at}`,
  type,
  timestamp: at,
  identities: [id("crm", `DV-${who}`)],
  data,
});

const VIEW: JsonBody<(typeof api.v1)["data-views"][":id"]["$put"]> = {
  name: "E-mail performance",
  dimensions: [
    { id: "campaign", field: "data.campaign" },
    { id: "tier", field: "profile.loyalty.tier" },
    { id: "week", field: "time.week" },
    { id: "day", field: "time.day" },
    { id: "sku", field: "data.sku" },
  ],
  metrics: [
    { id: "delivered", aggregate: "count", filter: { type: ["email.delivered"] } },
    { id: "clicked", aggregate: "count", filter: { type: ["email.clicked"] } },
    { id: "recipients", aggregate: "profiles", filter: { type: ["email.delivered"] } },
    { id: "revenue", aggregate: "sum", field: "data.amount", filter: { type: ["purchase"] } },
    { id: "avgOrder", aggregate: "avg", field: "data.amount", filter: { type: ["purchase"] } },
    {
      id: "goldDelivered",
      aggregate: "count",
      filter: {
        type: ["email.delivered"],
        where: [{ field: "profile.loyalty.tier", op: "eq", value: "gold" }],
      },
    },
    {
      id: "bigOrders",
      aggregate: "count",
      filter: { type: ["purchase"], where: [{ field: "data.amount", op: "gte", value: 30 }] },
    },
  ],
  calculated: [
    { id: "ctr", formula: "clicked / delivered" },
    { id: "ctrPct", formula: "ctr * 100" },
  ],
};

type ReportQuery = Parameters<(typeof api.v1)["data-views"][":id"]["report"]["$get"]>[0]["query"];
const report = async (query: Partial<ReportQuery>) =>
  having(
    await unwrap(
      api.v1["data-views"][":id"].report.$get({
        param: { id: "email-perf" },
        query: { from: "2025-09-01", to: "2025-09-14", ...query },
      }),
    ),
    "items",
  );
const table = (items: { key: string; values: Record<string, number | null> }[]) =>
  items.map((i) => [i.key, ...Object.values(i.values)]);

beforeAll(async () => {
  await putDataset("dv-crm", { kind: "records" });
  await postRecords([
    {
      dataset: "dv-crm",
      identities: [id("crm", "DV-A")],
      attributes: { loyalty: { tier: "gold" } },
    },
    {
      dataset: "dv-crm",
      identities: [id("crm", "DV-B")],
      attributes: { loyalty: { tier: "silver" } },
    },
    { dataset: "dv-crm", identities: [id("crm", "DV-C")], attributes: { name: "C" } },
  ]);
  await postEvents([
    ev("email.delivered", "A", "2025-09-01T10:00:00Z", { campaign: "fall" }),
    ev("email.delivered", "A", "2025-09-02T10:00:00Z", { campaign: "fall" }),
    ev("email.clicked", "A", "2025-09-02T11:00:00Z", { campaign: "fall" }),
    ev("email.delivered", "B", "2025-09-03T10:00:00Z", { campaign: "fall" }),
    ev("email.delivered", "B", "2025-09-08T10:00:00Z", { campaign: "winter" }),
    ev("email.clicked", "B", "2025-09-08T12:00:00Z", { campaign: "winter" }),
    // Sunday 23:30 UTC is Monday 01:30 in Amsterdam: another day and another week there.
    ev("email.delivered", "C", "2025-09-07T23:30:00Z", { campaign: "winter" }),
    ev("purchase", "A", "2025-09-04T10:00:00Z", { amount: 30, sku: "X" }),
    ev("purchase", "A", "2025-09-09T10:00:00Z", { amount: 20, sku: "Y" }),
    ev("purchase", "B", "2025-09-05T10:00:00Z", { amount: 50, sku: "X" }),
  ]);
  const put = await send(
    api.v1["data-views"][":id"].$put({ param: { id: "email-perf" }, json: VIEW }),
  );
  if (put.status !== 200) throw new Error(`PUT data view: ${put.status} ${put.text}`);
});

describe("data views", () => {
  it("stores the definition and lists it after the built-in journeys view", async () => {
    const one = await send(api.v1["data-views"][":id"].$get({ param: { id: "email-perf" } }));
    expect(one).toHaveStatus(200);
    expect(one.json).toMatchObject({
      id: "email-perf",
      builtIn: false,
      name: "E-mail performance",
      dimensions: VIEW.dimensions,
      calculated: VIEW.calculated,
    });
    const list = await send(api.v1["data-views"].$get());
    expect(list.json.items.map((v) => v.id)).toEqual(
      expect.arrayContaining(["journeys", "email-perf"]),
    );
    expect(list.json.items[0]).toMatchObject({ id: "journeys", builtIn: true });
  });

  it("breaks down by a data path with a calculated metric (click-through = clicked / delivered) and distinct profiles", async () => {
    const r = await report({
      dimension: "campaign",
      metrics: "delivered,clicked,ctr,recipients",
      tz: "UTC",
    });
    expect(table(r.items)).toEqual([
      ["fall", 3, 1, 1 / 3, 2],
      ["winter", 2, 1, 0.5, 2],
    ]);
    // Distinct profiles do not add up across keys: B got both campaigns, so 3, not 4.
    expect(r.totals).toEqual({ delivered: 5, clicked: 2, ctr: 0.4, recipients: 3 });
    expect(r.complete).toBe(true);
    expect(r.truncated).toBe(false);
  });

  it("breaks down by time.week in two time zones, every week present", async () => {
    const utc = await report({ dimension: "week", metrics: "delivered,clicked", tz: "UTC" });
    expect(table(utc.items)).toEqual([
      ["2025-09-01", 4, 1],
      ["2025-09-08", 1, 1],
    ]);
    const ams = await report({
      dimension: "week",
      metrics: "delivered,clicked",
      tz: "Europe/Amsterdam",
    });
    expect(table(ams.items)).toEqual([
      ["2025-09-01", 3, 1],
      ["2025-09-08", 2, 1],
    ]);
    const days = await report({ dimension: "day", metrics: "delivered", tz: "Europe/Amsterdam" });
    expect(days.items).toHaveLength(14);
    expect(days.items.find((i) => i.key === "2025-09-07")!.values.delivered).toBe(0);
    expect(days.items.find((i) => i.key === "2025-09-08")!.values.delivered).toBe(2);
    expect(days.items.every((i) => i.complete)).toBe(true);
  });

  it("breaks down by a profile attribute merged from the profile's records", async () => {
    const r = await report({
      dimension: "tier",
      metrics: "delivered,revenue,recipients",
      tz: "UTC",
    });
    expect(table(r.items)).toEqual([
      ["gold", 2, 50, 1],
      ["silver", 2, 50, 1],
      ["(none)", 1, 0, 1],
    ]);
    expect(r.totals).toEqual({ delivered: 5, revenue: 100, recipients: 3 });
  });

  it("applies metric filters on data and on profile attributes", async () => {
    const byCampaign = await report({
      dimension: "campaign",
      metrics: "delivered,goldDelivered",
      tz: "UTC",
    });
    expect(table(byCampaign.items)).toEqual([
      ["fall", 3, 2],
      ["winter", 2, 0],
    ]);
    const bySku = await report({
      dimension: "sku",
      metrics: "revenue,avgOrder,bigOrders",
      tz: "UTC",
    });
    expect(table(bySku.items)).toEqual([
      ["X", 80, 40, 2],
      ["Y", 20, 20, 0],
    ]);
    expect(bySku.totals).toEqual({ revenue: 100, avgOrder: 100 / 3, bigOrders: 2 });
  });

  it("serves the same report as CSV", async () => {
    const json = await report({
      dimension: "campaign",
      metrics: "delivered,clicked,ctr",
      tz: "UTC",
    });
    const res = await viewReport("email-perf", {
      from: "2025-09-01",
      to: "2025-09-14",
      dimension: "campaign",
      metrics: "delivered,clicked,ctr",
      tz: "UTC",
      format: "csv",
    });
    expect(res).toHaveStatus(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const [header, ...rows] = res.text.trim().split("\r\n");
    expect(header).toBe("campaign,delivered,clicked,ctr,complete");
    expect(rows.map((r) => r.split(","))).toEqual(
      json.items.map((i) => [i.key, ...Object.values(i.values).map(String), String(i.complete)]),
    );
  });

  it("limits the items to the top ones and says so", async () => {
    const r = await report({ dimension: "campaign", metrics: "delivered", limit: "1", tz: "UTC" });
    expect(table(r.items)).toEqual([["fall", 3]]);
    expect(r.truncated).toBe(true);
    expect(r.totals.delivered).toBe(5);
  });

  it("marks today's partial day and the report incomplete", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const res = await viewReport("email-perf", {
      to: today,
      dimension: "day",
      metrics: "delivered",
      tz: "UTC",
    });
    expect(res).toHaveStatus(200);
    const report = having(res.json, "items");
    expect(report.complete).toBe(false);
    expect(report.items.at(-1)).toMatchObject({ key: today, complete: false });
    expect(report.items[0]?.complete).toBe(true);
  });
});

describe("counts from the hourly rollups", () => {
  it("equal a scan of the events through duplicates, erasure, and zones off the hour", async () => {
    await send(
      api.v1["data-views"][":id"].$put({
        param: { id: "rollup-check" },
        json: {
          name: "Rollups vs scan",
          dimensions: [
            { id: "day", field: "time.day" },
            { id: "type", field: "type" },
          ],
          metrics: [
            // `where` that always holds forces the scan path: the two must agree.
            { id: "rolled", aggregate: "count", filter: { type: ["rc.visit", "rc.buy"] } },
            {
              id: "scanned",
              aggregate: "count",
              filter: { type: ["rc.visit", "rc.buy"], where: [{ field: "dataset", op: "exists" }] },
            },
          ],
        },
      }),
    );
    const visit = (who: string, at: string, type = "rc.visit") => ({
      id: `rc-${who}-${type}-${at}`,
      type,
      timestamp: at,
      identities: [id("crm", `RC-${who}`)],
    });
    const batch = [
      visit("a", "2025-08-04T23:30:00Z"),
      visit("a", "2025-08-05T00:30:00Z", "rc.buy"),
      visit("b", "2025-08-05T12:00:00Z"),
      visit("b", "2025-08-06T18:45:00Z"),
    ];
    await postEvents(batch);
    await postEvents(batch); // duplicates: not inserted, not counted
    const both = async (query: { dimension: string; tz: string }) => {
      const report = await unwrap(
        api.v1["data-views"][":id"].report.$get({
          param: { id: "rollup-check" },
          query: { from: "2025-08-04", to: "2025-08-06", ...query },
        }),
      );
      return having(report, "items").items.map((i) => [i.key, i.values.rolled, i.values.scanned]);
    };
    expect(await both({ dimension: "day", tz: "UTC" })).toEqual([
      ["2025-08-04", 1, 1],
      ["2025-08-05", 2, 2],
      ["2025-08-06", 1, 1],
    ]);
    // Kolkata is UTC+5:30: the rollups' whole hours cannot answer, so both come from the scan.
    expect(await both({ dimension: "day", tz: "Asia/Kolkata" })).toEqual([
      ["2025-08-04", 0, 0],
      ["2025-08-05", 3, 3],
      ["2025-08-06", 0, 0],
    ]);
    expect(await both({ dimension: "type", tz: "UTC" })).toEqual([
      ["rc.visit", 3, 3],
      ["rc.buy", 1, 1],
    ]);
    const erased = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
        param: { namespace: "crm", id: "RC-a" },
        query: {},
      }),
    );
    expect(erased.status, erased.text).toBe(200);
    expect(await both({ dimension: "day", tz: "UTC" })).toEqual([
      ["2025-08-04", 0, 0],
      ["2025-08-05", 1, 1],
      ["2025-08-06", 1, 1],
    ]);
    expect(await both({ dimension: "type", tz: "UTC" })).toEqual([["rc.visit", 2, 2]]);
  });
});

/**
 * Journey attribution with hand-computed credits, and the built-in journeys view.
 * Customer AT-1 gets three journey messages before one purchase of 90 on 2025-10-05 10:00:
 *   m1 welcome  delivered 2025-10-01
 *   m3 welcome  delivered 2025-10-02
 *   m2 winback  delivered 2025-10-03, clicked 2025-10-04 (one touchpoint)
 *   m4 promo    delivered 2025-09-20 (outside a 7-day window, inside a 30-day one)
 * Customer AT-2 buys for 10 with no message: unattributed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { api, having, id, postEvents, send, unwrap, viewReport } from "../helpers";

const email = id("email", "at-1@example.com");
const msg = (messageId: string, journey: string, type: string, at: string) => ({
  id: `at-${messageId}-${type}-${at}`,
  type,
  timestamp: at,
  identities: [email],
  data: { messageId, journey, channel: "email" },
});

beforeAll(async () => {
  await postEvents([
    msg("m4", "promo", "message.sent", "2025-09-20T09:00:00Z"),
    msg("m4", "promo", "message.delivered", "2025-09-20T09:01:00Z"),
    msg("m1", "welcome", "message.sent", "2025-10-01T10:00:00Z"),
    msg("m1", "welcome", "message.delivered", "2025-10-01T10:01:00Z"),
    msg("m3", "welcome", "message.sent", "2025-10-02T10:00:00Z"),
    msg("m3", "welcome", "message.delivered", "2025-10-02T10:01:00Z"),
    msg("m2", "winback", "message.sent", "2025-10-03T10:00:00Z"),
    msg("m2", "winback", "message.delivered", "2025-10-03T10:01:00Z"),
    msg("m2", "winback", "message.clicked", "2025-10-04T09:00:00Z"),
    // The purchase carries the e-mail too, so it belongs to the same profile.
    {
      id: "at-purchase-1",
      type: "purchase",
      timestamp: "2025-10-05T10:00:00Z",
      identities: [id("crm", "AT-1"), email],
      data: { amount: 90 },
    },
    {
      id: "at-purchase-2",
      type: "purchase",
      timestamp: "2025-10-06T10:00:00Z",
      identities: [id("crm", "AT-2")],
      data: { amount: 10 },
    },
  ]);
});

type JourneysQuery = Parameters<typeof api.v1.reports.journeys.$get>[0]["query"];
const attribution = (query: Partial<JourneysQuery>) =>
  unwrap(
    api.v1.reports.journeys.$get({
      query: {
        from: "2025-10-01",
        to: "2025-10-31",
        tz: "UTC",
        conversion: "purchase",
        value: "data.amount",
        ...query,
      },
    }),
  );
const credits = (report: Awaited<ReturnType<typeof attribution>>) =>
  Object.fromEntries(report.items.map((i) => [i.journey, [i.conversions, i.conversionValue]]));

describe("journey attribution", () => {
  it("first touch credits the earliest message's journey", async () => {
    const r = await attribution({ model: "first", window: "P7D" });
    expect(credits(r)).toEqual({ welcome: [1, 90], winback: [0, 0] });
    expect(r.totals).toMatchObject({
      conversions: 2,
      attributedConversions: 1,
      unattributedConversions: 1,
      conversionValue: 100,
      attributedValue: 90,
    });
  });

  it("last touch credits the latest message's journey", async () => {
    const r = await attribution({ model: "last", window: "P7D" });
    expect(credits(r)).toEqual({ welcome: [0, 0], winback: [1, 90] });
  });

  it("linear shares a conversion among the touchpoints: welcome 2/3, winback 1/3", async () => {
    const r = await attribution({ model: "linear", window: "P7D" });
    expect(r.items.find((i) => i.journey === "welcome")?.conversions).toBeCloseTo(2 / 3, 9);
    expect(r.items.find((i) => i.journey === "welcome")?.conversionValue).toBeCloseTo(60, 9);
    expect(r.items.find((i) => i.journey === "winback")?.conversions).toBeCloseTo(1 / 3, 9);
    expect(r.items.find((i) => i.journey === "winback")?.conversionValue).toBeCloseTo(30, 9);
  });

  it("messages outside the window get nothing; a longer window reaches them", async () => {
    const week = await attribution({ model: "linear", window: "P7D" });
    expect(week.items.find((i) => i.journey === "promo")).toBeUndefined();
    const month = await attribution({ model: "linear", window: "P30D" });
    expect(month.items.find((i) => i.journey === "promo")?.conversions).toBeCloseTo(1 / 4, 9);
    expect(month.items.find((i) => i.journey === "welcome")?.conversions).toBeCloseTo(2 / 4, 9);
    const first = await attribution({ model: "first", window: "P30D" });
    expect(credits(first).promo).toEqual([1, 90]);
  });

  it("totals the value the same from the hourly rollups (a top-level field, whole hours) as from the events themselves", async () => {
    // UTC and a top-level field read the rollups; a half-hour zone and a nested path read the events.
    await postEvents([
      {
        id: "at-purchase-3",
        type: "purchase",
        timestamp: "2025-10-07T10:00:00Z",
        identities: [id("crm", "AT-3")],
        data: { amount: 2.5, order: { total: 2.5 } },
      },
    ]);
    const rolled = await attribution({ model: "linear", window: "P7D" });
    const kolkata = await send(
      api.v1.reports.journeys.$get({
        query: {
          from: "2025-10-01",
          to: "2025-10-31",
          tz: "Asia/Kolkata",
          conversion: "purchase",
          value: "data.amount",
          model: "linear",
          window: "P7D",
        },
      }),
    );
    const nested = await send(
      api.v1.reports.journeys.$get({
        query: {
          from: "2025-10-01",
          to: "2025-10-31",
          tz: "UTC",
          conversion: "purchase",
          value: "data.order.total",
          model: "linear",
          window: "P7D",
        },
      }),
    );
    expect(rolled.totals).toMatchObject({
      conversions: 3,
      conversionValue: 102.5,
      attributedValue: 90,
    });
    expect(kolkata.json.totals).toMatchObject({
      conversions: 3,
      conversionValue: 102.5,
      attributedValue: 90,
    });
    expect(nested.json.totals).toMatchObject({
      conversions: 3,
      conversionValue: 2.5,
      attributedValue: 0,
    });
    await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
        param: { namespace: "crm", id: "AT-3" },
        query: {},
      }),
    );
    expect((await attribution({ model: "linear", window: "P7D" })).totals).toMatchObject({
      conversions: 2,
      conversionValue: 100,
    });
  });

  it("carries the message metrics of each journey with the message report's definitions", async () => {
    const r = await attribution({ model: "last" });
    const welcome = r.items.find((i) => i.journey === "welcome");
    expect(welcome).toMatchObject({ sent: 2, delivered: 2, clicked: 0 });
    expect(r.items.find((i) => i.journey === "winback")).toMatchObject({
      sent: 1,
      delivered: 1,
      clicked: 1,
    });
    expect(r.definitions.conversions).toMatch(/window/);
    expect(r.complete).toBe(true);
  });
});

describe("the built-in journeys view", () => {
  it("reports the messaging metrics by journey with rates, and agrees with /v1/reports/messages", async () => {
    const res = await viewReport("journeys", {
      from: "2025-10-01",
      to: "2025-10-31",
      tz: "UTC",
      dimension: "journey",
      metrics: "sent,delivered,clicked,clickThrough",
    });
    expect(res).toHaveStatus(200);
    const rows = Object.fromEntries(having(res.json, "items").items.map((i) => [i.key, i.values]));
    expect(rows.welcome).toEqual({ sent: 2, delivered: 2, clicked: 0, clickThrough: 0 });
    expect(rows.winback).toEqual({ sent: 1, delivered: 1, clicked: 1, clickThrough: 1 });
    const messages = await send(
      api.v1.reports.messages.$get({
        query: { from: "2025-10-01", to: "2025-10-31", tz: "UTC", groupBy: "journey" },
      }),
    );
    for (const m of messages.json.items) {
      expect(rows[m.key]).toMatchObject({
        sent: m.sent,
        delivered: m.delivered,
        clicked: m.clicked,
      });
    }
    const weekly = await viewReport("journeys", {
      from: "2025-10-01",
      to: "2025-10-31",
      tz: "UTC",
      dimension: "week",
      metrics: "delivered",
    });
    const weeks = having(weekly.json, "items").items;
    expect(weeks.map((i) => [i.key, i.values.delivered])).toEqual([
      ["2025-09-29", 3],
      ["2025-10-06", 0],
      ["2025-10-13", 0],
      ["2025-10-20", 0],
      ["2025-10-27", 0],
    ]);
    // The first and last weeks reach outside the range: not complete.
    expect(weeks[0]?.complete).toBe(false);
    expect(weeks[1]?.complete).toBe(true);
  });
});

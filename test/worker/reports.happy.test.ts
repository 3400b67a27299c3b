import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, id, postEvents, send, unwrap } from "../helpers";

/** The message report through the typed client: its answer is typed, no `any`. */
type MessagesQuery = {
  from?: string;
  to?: string;
  tz?: string;
  groupBy?: "day" | "week" | "month" | "channel" | "journey";
};
const messages = (query: MessagesQuery) => unwrap(api.v1.reports.messages.$get({ query }));
const events = (query: {
  type?: string;
  from?: string;
  to?: string;
  groupBy?: string;
  metric?: "count" | "profiles";
}) => unwrap(api.v1.reports.events.$get({ query }));

const msg = (messageId: string, type: string, at: string, extra: Record<string, unknown> = {}) => ({
  id: `${messageId}-${type}-${at}`,
  type,
  timestamp: at,
  identities: [id("email", `${messageId}@example.com`)],
  data: { messageId, channel: "email", journey: "welcome", ...extra },
});

describe("message reports", () => {
  it("a message retried twice then delivered counts as 1 sent, 2 retries, 1 delivered", async () => {
    await postEvents([
      msg("m1", "message.sent", "2026-03-02T09:00:00Z", { attempt: 1 }),
      msg("m1", "message.bounced", "2026-03-02T09:01:00Z"),
      msg("m1", "message.retry", "2026-03-02T10:00:00Z", { attempt: 2 }),
      msg("m1", "message.sent", "2026-03-02T11:00:00Z", { attempt: 3 }),
      msg("m1", "message.delivered", "2026-03-02T11:01:00Z"),
      msg("m1", "message.delivered", "2026-03-02T11:02:00Z"),
      msg("m1", "message.opened", "2026-03-02T12:00:00Z"),
      msg("m1", "message.opened", "2026-03-02T13:00:00Z"),
      msg("m2", "message.sent", "2026-03-02T09:00:00Z", { channel: "sms", journey: "winback" }),
      msg("m2", "message.bounced", "2026-03-02T09:05:00Z", { channel: "sms", journey: "winback" }),
    ]);
    const report = await messages({ from: "2026-03-01", to: "2026-03-03", tz: "UTC" });
    expect(report.totals).toEqual({
      sent: 2,
      retries: 2,
      delivered: 1,
      bounced: 1,
      opened: 1,
      clicked: 0,
      complete: true,
    });
    const day = report.items.find((r) => r.key === "2026-03-02");
    expect(day).toEqual({
      key: "2026-03-02",
      sent: 2,
      retries: 2,
      delivered: 1,
      bounced: 1,
      opened: 1,
      clicked: 0,
      complete: true,
    });
    expect(report.items.map((r) => r.key)).toEqual(["2026-03-01", "2026-03-02", "2026-03-03"]);
    const byChannel = await messages({ from: "2026-03-01", to: "2026-03-03", groupBy: "channel" });
    expect(byChannel.items.map((r) => [r.key, r.sent, r.bounced])).toEqual([
      ["email", 1, 0],
      ["sms", 1, 1],
    ]);
    expect(report.definitions.sent).toMatch(/first attempt/);
  });

  it("day boundaries follow the time zone: 23:30 UTC is the next day in Amsterdam", async () => {
    await postEvents([msg("tz1", "message.sent", "2026-06-10T23:30:00Z", { journey: "tz" })]);
    const utc = await messages({ from: "2026-06-10", to: "2026-06-11", tz: "UTC" });
    const ams = await messages({ from: "2026-06-10", to: "2026-06-11", tz: "Europe/Amsterdam" });
    expect(utc.items.find((r) => r.key === "2026-06-10")?.sent).toBe(1);
    expect(ams.items.find((r) => r.key === "2026-06-10")?.sent).toBe(0);
    expect(ams.items.find((r) => r.key === "2026-06-11")?.sent).toBe(1);
  });

  it("today is complete: false; past days are complete", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const report = await messages({ to: today, tz: "UTC" });
    const last = report.items[report.items.length - 1]!;
    expect(last.key).toBe(today);
    expect(last.complete).toBe(false);
    expect(report.items[0]!.complete).toBe(true);
    expect(report.totals.complete).toBe(false);
    await expect(messages({ tz: "Mars/Olympus" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
  });
});

describe("message firsts (kept by triggers)", () => {
  const scan = async () =>
    (
      await env.DB.prepare(
        `SELECT type, CAST(json_extract(data, '$.messageId') AS TEXT) AS message_id, min(at) AS first_at, identity_id, json_extract(data, '$.journey') AS journey FROM events
         WHERE type IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked') AND json_extract(data, '$.messageId') LIKE 'mf-%'
           AND (type != 'message.sent' OR coalesce(json_extract(data, '$.attempt'), 1) <= 1)
         GROUP BY 1, 2 ORDER BY 1, 2`,
      ).all()
    ).results;
  const table = async () =>
    (
      await env.DB.prepare(
        `SELECT type, message_id, first_at, identity_id, journey FROM message_firsts WHERE message_id LIKE 'mf-%' ORDER BY 1, 2`,
      ).all()
    ).results;
  /** The hourly rollups against a count of the firsts (a bounce only while its message has no delivery). */
  const expectRollupsExact = async () => {
    const counted = await env.DB.prepare(
      `SELECT first_at / 3600000 AS hour, type, ifnull(channel, '') AS channel, ifnull(journey, '') AS journey, count(*) AS messages FROM message_firsts f
       WHERE NOT (type = 'message.bounced' AND EXISTS (SELECT 1 FROM message_firsts d WHERE d.type = 'message.delivered' AND d.message_id = f.message_id))
       GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    ).all();
    const rolled = await env.DB.prepare(
      `SELECT hour, type, channel, journey, messages FROM message_rollups WHERE messages != 0 ORDER BY 1, 2, 3, 4`,
    ).all();
    expect(rolled.results).toEqual(counted.results);
  };

  it("equal a scan of the events through duplicates, late earlier events, retries, identity deletes and erasure", async () => {
    await postEvents([
      msg("mf-1", "message.sent", "2026-05-02T09:00:00Z", { attempt: 1 }),
      msg("mf-1", "message.sent", "2026-05-02T10:00:00Z", { attempt: 2 }),
      msg("mf-1", "message.delivered", "2026-05-02T10:01:00Z"),
      msg("mf-2", "message.opened", "2026-05-03T09:00:00Z"),
    ]);
    // A resent event is a duplicate; an earlier event arriving later becomes the first.
    await postEvents([
      msg("mf-1", "message.delivered", "2026-05-02T10:01:00Z"),
      msg("mf-1", "message.delivered", "2026-05-02T09:30:00Z"),
    ]);
    // mf-3's first delivery is on a device of the same person; the device goes away, the e-mail's later delivery takes its place.
    await postEvents([
      {
        ...msg("mf-3", "message.delivered", "2026-05-04T08:00:00Z"),
        identities: [id("email", "mf-3@example.com"), id("device", "mf-device-00000001")],
      },
    ]);
    await postEvents([
      {
        ...msg("mf-3", "message.delivered", "2026-05-04T08:00:00Z"),
        id: "mf-3-device",
        identities: [id("device", "mf-device-00000001")],
        timestamp: "2026-05-04T07:00:00Z",
      },
    ]);
    await postEvents([
      { ...msg("mf-3", "message.delivered", "2026-05-04T09:00:00Z"), id: "mf-3-later" },
    ]);
    expect(await table()).toEqual(await scan());
    await expectRollupsExact();
    expect((await table()).find((r) => r.message_id === "mf-3")).toMatchObject({
      first_at: Date.parse("2026-05-04T07:00:00Z"),
    });
    expect(
      await send(
        api.v1.identities[":namespace"][":id"].$delete({
          param: { namespace: "device", id: "mf-device-00000001" },
        }),
      ),
    ).toHaveStatus(200);
    expect(await table()).toEqual(await scan());
    expect((await table()).find((r) => r.message_id === "mf-3")).toMatchObject({
      first_at: Date.parse("2026-05-04T08:00:00Z"),
    });
    // Erasure leaves nothing of the person's messages.
    expect(
      await send(
        api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
          param: { namespace: "email", id: "mf-1@example.com" },
          query: {},
        }),
      ),
    ).toHaveStatus(200);
    expect((await table()).some((r) => r.message_id === "mf-1")).toBe(false);
    expect(await table()).toEqual(await scan());
    // A bounce counts until the message is delivered; a half-hour zone counts the firsts themselves and agrees.
    await postEvents([msg("mf-4", "message.bounced", "2026-05-03T10:00:00Z")]);
    expect(
      (await messages({ from: "2026-05-01", to: "2026-05-05", tz: "UTC" })).totals,
    ).toMatchObject({ bounced: 1 });
    await postEvents([msg("mf-4", "message.delivered", "2026-05-03T12:00:00Z")]);
    await expectRollupsExact();
    const report = await messages({ from: "2026-05-01", to: "2026-05-05", tz: "UTC" });
    expect(report.totals).toMatchObject({
      sent: 0,
      retries: 0,
      delivered: 2,
      bounced: 0,
      opened: 1,
    });
    const kolkata = await messages({ from: "2026-05-01", to: "2026-05-05", tz: "Asia/Kolkata" });
    expect(kolkata.totals).toEqual(report.totals);
  });
});

describe("value rollups (kept by triggers)", () => {
  it("equal a sum of the events' top-level numbers through inserts, duplicates, identity deletes and erasure", async () => {
    const scan = async () =>
      (
        await env.DB.prepare(
          `SELECT e.at / 3600000 AS hour, e.dataset, e.type, j.key AS field, total(j.value) AS total FROM events e, json_each(e.data) j
           WHERE json_type(e.data) = 'object' AND j.type IN ('integer', 'real') GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
        ).all()
      ).results;
    const rolled = async () =>
      (
        await env.DB.prepare(
          `SELECT hour, dataset, type, field, total FROM event_value_rollups WHERE total != 0 ORDER BY 1, 2, 3, 4`,
        ).all()
      ).results;
    const order = (n: number, who: string, data: Record<string, unknown>) => ({
      id: `vr-${n}`,
      type: "purchase",
      timestamp: `2026-06-0${1 + (n % 3)}T10:${String(n).padStart(2, "0")}:00Z`,
      identities: [id("crm", who)],
      data,
    });
    await postEvents([
      order(1, "VR-1", { amount: 10, qty: 2, sku: "A" }),
      order(2, "VR-1", { amount: 2.25, nested: { amount: 99 } }),
      order(3, "VR-2", { amount: "12", qty: 1 }),
      {
        ...order(4, "VR-3", { amount: 7 }),
        identities: [id("crm", "VR-3"), id("device", "vr-device-00000001")],
      },
      { ...order(5, "VR-3", { amount: 1 }), identities: [id("device", "vr-device-00000001")] },
    ]);
    await postEvents([order(1, "VR-1", { amount: 10, qty: 2, sku: "A" })]); // a duplicate
    expect(await rolled()).toEqual(await scan());
    expect(
      (await rolled())
        .filter((r) => r.field === "amount")
        .reduce((sum, r) => sum + Number(r.total), 0),
    ).toBeCloseTo(10 + 2.25 + 7 + 1, 9);
    expect(
      await send(
        api.v1.identities[":namespace"][":id"].$delete({
          param: { namespace: "device", id: "vr-device-00000001" },
        }),
      ),
    ).toHaveStatus(200);
    expect(await rolled()).toEqual(await scan());
    expect(
      await send(
        api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
          param: { namespace: "crm", id: "VR-1" },
          query: {},
        }),
      ),
    ).toHaveStatus(200);
    expect(await rolled()).toEqual(await scan());
  });
});

describe("event reports", () => {
  it("counts and distinct profiles per day, type and data path", async () => {
    await postEvents([
      {
        type: "purchase",
        timestamp: "2026-04-01T10:00:00Z",
        identities: [id("crm", "R1")],
        data: { sku: "A" },
      },
      {
        type: "purchase",
        timestamp: "2026-04-01T11:00:00Z",
        identities: [id("crm", "R1")],
        data: { sku: "B" },
      },
      {
        type: "purchase",
        timestamp: "2026-04-02T11:00:00Z",
        identities: [id("crm", "R2")],
        data: { sku: "A" },
      },
      { type: "page.view", timestamp: "2026-04-02T11:00:00Z", identities: [id("crm", "R2")] },
    ]);
    const byDay = await events({
      type: "purchase",
      from: "2026-04-01",
      to: "2026-04-02",
      groupBy: "day",
      metric: "profiles",
    });
    expect(byDay.items).toEqual([
      { key: "2026-04-01", value: 1, complete: true },
      { key: "2026-04-02", value: 1, complete: true },
    ]);
    const bySku = await events({
      type: "purchase",
      from: "2026-04-01",
      to: "2026-04-02",
      groupBy: "data.sku",
    });
    expect(bySku.items.map((r) => [r.key, r.value])).toEqual([
      ["A", 2],
      ["B", 1],
    ]);
    const byType = await events({ from: "2026-04-01", to: "2026-04-02", groupBy: "type" });
    expect(byType.items.map((r) => [r.key, r.value])).toEqual([
      ["page.view", 1],
      ["purchase", 3],
    ]);
  });
});

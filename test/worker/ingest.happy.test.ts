import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, id, iso, postEvents, postRecords, putDataset, send } from "../helpers";

const count = async (sql: string) => (await env.DB.prepare(sql).first<{ n: number }>())!.n;
const snapshot = async () => ({
  events: await count("SELECT count(*) AS n FROM events"),
  identities: await count("SELECT count(*) AS n FROM identities"),
  links: await count("SELECT count(*) AS n FROM links"),
  profiles: await count("SELECT count(*) AS n FROM profiles"),
  fragments: await count("SELECT count(*) AS n FROM fragments"),
});

const BAD_AT = [3, 99, 250, 500, 501, 777, 999];
function thousandEvents(prefix: string, withBad: boolean) {
  const now = Date.now();
  return Array.from({ length: 1000 }, (_, i) => {
    const event: any = {
      id: `${prefix}-${i}`,
      type: "purchase",
      timestamp: iso(now - (i % 100) * 60_000),
      identities: [
        id("email", `${prefix}-${i % 300}@example.com`),
        id("crm", `${prefix}-crm-${i % 300}`),
      ],
      data: { amount: i },
    };
    if (withBad && BAD_AT.includes(i)) {
      const kind = BAD_AT.indexOf(i);
      if (kind === 0) event.identities = [id("email", "not-an-email")];
      if (kind === 1) event.identities = [id("email", "null")];
      if (kind === 2) event.timestamp = "1969-12-31T00:00:00Z";
      if (kind === 3) event.type = "";
      if (kind === 4) event.identities = [];
      if (kind === 5) event.identities = [id("nosuchns", "x")];
      if (kind === 6) event.dataset = "nope";
    }
    return event;
  });
}

describe("POST /v1/events", () => {
  it("keeps 993 of 1,000 and reports the 7 bad ones by index with a reason", async () => {
    const out = await postEvents(thousandEvents("part", true));
    expect(out.accepted).toBe(993);
    expect(out.duplicates).toBe(0);
    expect(out.rejected.map((r) => r.index)).toEqual(BAD_AT);
    expect(out.rejected.map((r) => r.error.code)).toEqual([
      "invalid_identity",
      "blocked_identity",
      "invalid_timestamp",
      "invalid_request",
      "invalid_request",
      "unknown_namespace",
      "unknown_dataset",
    ]);
    for (const r of out.rejected) expect(r.error.message.length).toBeGreaterThan(0);
    expect(out.profiles.length).toBe(300);
    expect(await count("SELECT count(*) AS n FROM events WHERE id LIKE 'part-%'")).toBe(993);

    // The same call again: the 993 are duplicates, the 7 still rejected, nothing changes.
    const before = await snapshot();
    const again = await postEvents(thousandEvents("part", true));
    expect(again).toMatchObject({ accepted: 0, duplicates: 993 });
    expect(again.rejected).toHaveLength(7);
    expect(await snapshot()).toEqual(before);
  });

  it("a clean 1,000-event call repeated reports 1,000 duplicates and changes nothing", async () => {
    const first = await postEvents(thousandEvents("clean", false));
    expect(first.accepted).toBe(1000);
    const before = await snapshot();
    const again = await postEvents(thousandEvents("clean", false));
    expect(again).toEqual({ accepted: 0, duplicates: 1000, rejected: [], profiles: [] });
    expect(await snapshot()).toEqual(before);
  });

  it("?atomic=true with one bad item stores nothing and answers the error with its path", async () => {
    const before = await snapshot();
    const events = thousandEvents("atomic", false).slice(0, 20);
    events[7].identities = [id("email", "bad@@example")];
    const res = await send(api.v1.events.$post({ query: { atomic: "true" }, json: { events } }));
    expect(res).toHaveStatus(400);
    expect(res.error?.code).toBe("invalid_identity");
    expect(res.error?.details?.[0]?.path).toBe("events[7].identities[0].id");
    expect(await snapshot()).toEqual(before);
    // Fixed, the same atomic call stores all 20.
    events[7].identities = [id("email", "good@example.com")];
    const ok = await send(api.v1.events.$post({ query: { atomic: "true" }, json: { events } }));
    expect(ok).toHaveStatus(200);
    expect(ok.json.accepted).toBe(20);
  });

  it("accepts a single event, generates an id, and uses the receipt time without a timestamp", async () => {
    const t = Date.now();
    const res = await send(
      api.v1.events.$post({
        query: {},
        json: { type: "page.view", identities: [id("device", "single-device-0000001")] },
      }),
    );
    expect(res).toHaveStatus(200);
    expect(res.json).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] });
    const row = await env.DB.prepare(
      "SELECT e.id, e.at FROM events e JOIN identities i ON i.id = e.identity_id WHERE i.value = 'single-device-0000001'",
    ).first<{ id: string; at: number }>();
    expect(row!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row!.at).toBeGreaterThanOrEqual(t - 1000);
  });
});

describe("POST /v1/records", () => {
  it("deep-merges attributes into the (dataset, first identity) fragment; null removes", async () => {
    await putDataset("crm", { kind: "records" });
    const who = [id("crm", "merge-1"), id("email", "merge1@example.com")];
    await postRecords([
      {
        dataset: "crm",
        identities: who,
        attributes: {
          firstName: "John",
          loyalty: { tier: "silver", points: 10 },
          tags: ["a", "b"],
        },
      },
    ]);
    await postRecords([
      {
        dataset: "crm",
        identities: who,
        attributes: { loyalty: { tier: "gold" }, tags: ["c"], lastName: "Greene" },
      },
    ]);
    await postRecords([
      {
        dataset: "crm",
        identities: who,
        attributes: { firstName: null, loyalty: { points: null } },
      },
    ]);
    const row = await env.DB.prepare(
      "SELECT f.attributes FROM fragments f JOIN identities i ON i.id = f.identity_id WHERE i.namespace = 'crm' AND i.value = 'merge-1' AND f.dataset = 'crm'",
    ).first<{ attributes: string }>();
    expect(JSON.parse(row!.attributes)).toEqual({
      loyalty: { tier: "gold" },
      tags: ["c"],
      lastName: "Greene",
    });
    // Only one fragment: it hangs off the first identity.
    expect(
      await count(
        "SELECT count(*) AS n FROM fragments f JOIN identities i ON i.id = f.identity_id WHERE i.value LIKE 'merge1@%'",
      ),
    ).toBe(0);
  });

  it("rejects items that violate the dataset's JSON Schema with per-path details", async () => {
    const put = await putDataset("loyalty", {
      kind: "records",
      schema: {
        type: "object",
        properties: {
          tier: { enum: ["silver", "gold", "platinum"] },
          points: { type: "integer", minimum: 0 },
        },
        additionalProperties: false,
      },
    });
    expect(put).toHaveStatus(200);
    const out = await postRecords([
      {
        dataset: "loyalty",
        identities: [id("loyalty", "L-1")],
        attributes: { tier: "gold", points: 5 },
      },
      {
        dataset: "loyalty",
        identities: [id("loyalty", "L-2")],
        attributes: { tier: "bronze", points: -1 },
      },
      { dataset: "loyalty", identities: [id("loyalty", "L-3")], attributes: { colour: "red" } },
    ]);
    expect(out.accepted).toBe(1);
    expect(out.rejected.map((r) => r.index)).toEqual([1, 2]);
    expect(out.rejected[0]!.error.code).toBe("schema_violation");
    const paths = out.rejected[0]!.error.details!.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["attributes.tier", "attributes.points"]));
    expect(out.rejected[1]!.error.code).toBe("schema_violation");
  });

  it("writing to an unknown dataset is an error, to `default` is not; kinds are checked", async () => {
    const out = await postRecords([
      { dataset: "nowhere", identities: [id("crm", "ds-1")], attributes: { a: 1 } },
      { dataset: "default", identities: [id("crm", "ds-2")], attributes: { a: 1 } },
      { dataset: "web", identities: [id("crm", "ds-3")], attributes: { a: 1 } },
    ]);
    expect(out.accepted).toBe(1);
    expect(out.rejected.map((r) => [r.index, r.error.code])).toEqual([
      [0, "unknown_dataset"],
      [2, "wrong_dataset_kind"],
    ]);
  });

  it("lists datasets, including the built-in default", async () => {
    const res = await send(api.v1.datasets.$get());
    expect(res).toHaveStatus(200);
    expect(res.json.items.map((d) => d.name)).toEqual(expect.arrayContaining(["default", "web"]));
  });
});

/**
 * Computed attributes (SPEC §7): current in the request that ingests their events, over the
 * union after a merge, over each part after a split, lowered by a delete, an expired event
 * and a rolling window; computed for existing profiles in the background; usable in
 * segments and search; shown with their name and provenance.
 */
import { createScheduledController, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../worker/index";
import {
  api,
  apiClient,
  createPublicKey,
  having,
  id,
  identityToken,
  iso,
  type JsonBody,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  putDestination,
  putSegment,
  send,
  viewReport,
} from "../helpers";
import { poll } from "../poll";

const DAY = 86_400_000;
const now = Date.now();
const ago = (days: number) => iso(now - days * DAY);

const DEFINITIONS: Record<
  string,
  JsonBody<(typeof api.v1)["computed-attributes"][":id"]["$put"]>
> = {
  ltv: {
    name: "Lifetime value",
    aggregate: "sum",
    field: "data.amount",
    filter: { type: ["purchase"] },
  },
  orders: { name: "Orders", aggregate: "count", filter: { type: ["purchase"] } },
  "orders-30d": {
    name: "Orders in 30 days",
    aggregate: "count",
    filter: { type: ["purchase"] },
    within: "P30D",
  },
  "last-sku": {
    name: "Last product",
    aggregate: "last",
    field: "data.sku",
    filter: { type: ["purchase"] },
  },
  "top-category": { name: "Favourite category", aggregate: "mostFrequent", field: "data.category" },
  "big-orders-eur": {
    name: "Big orders in euro",
    aggregate: "count",
    filter: {
      type: ["purchase"],
      where: [
        { attr: "data.currency", op: "eq", value: "EUR" },
        { attr: "data.amount", op: "gte", value: 100 },
      ],
    },
  },
  "avg-order": {
    name: "Average order",
    aggregate: "avg",
    field: "data.amount",
    filter: { type: ["purchase"] },
  },
  "largest-order": { name: "Largest order", aggregate: "max", field: "data.amount" },
  categories: { name: "Categories", aggregate: "distinctCount", field: "data.category" },
};

const purchase = (
  eventId: string,
  who: { namespace: string; id: string }[],
  amount: number,
  extra: Record<string, unknown> = {},
  at = ago(1),
) => ({
  id: eventId,
  type: "purchase",
  timestamp: at,
  identities: who,
  data: { amount, currency: "EUR", ...extra },
});

async function profile(ns: string, value: string) {
  const res = await lookup(ns, value, { include: "provenance,segments" });
  expect(res.status, res.text).toBe(200);
  return res.json as {
    profileId: string;
    attributes: { computed?: Record<string, unknown> };
    provenance: Record<string, any>;
    segments: { id: string; status: string }[];
  };
}
const computedOf = async (ns: string, value: string) =>
  (await profile(ns, value)).attributes.computed ?? {};

const waitReady = (attributeId: string) =>
  poll(
    async () =>
      (await send(api.v1["computed-attributes"][":id"].$get({ param: { id: attributeId } }))).json,
    (a) => a.status === "ready",
    `computed attribute ${attributeId}`,
    { tries: 400 },
  );

beforeAll(async () => {
  // Existing data before any definition: the background computation must find it.
  await postEvents([
    purchase("bf-1", [id("crm", "BF-1")], 40, { sku: "TENT", category: "camping" }, ago(60)),
    purchase("bf-2", [id("crm", "BF-1")], 25, { sku: "MUG", category: "kitchen" }, ago(10)),
    {
      id: "bf-3",
      type: "page.view",
      timestamp: ago(5),
      identities: [id("crm", "BF-1")],
      data: { category: "camping" },
    },
  ]);
  for (const [attributeId, body] of Object.entries(DEFINITIONS)) {
    const res = await send(
      api.v1["computed-attributes"][":id"].$put({ param: { id: attributeId }, json: body }),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      id: attributeId,
      name: body.name,
      aggregate: body.aggregate,
      status: "backfilling",
    });
  }
  for (const attributeId of Object.keys(DEFINITIONS)) await waitReady(attributeId);
  expect(
    await putSegment("computed-big-spenders", {
      name: "Big spenders",
      rule: { attr: "computed.ltv", op: "gte", value: 100 },
    }),
  ).toHaveStatus(200);
  await poll(
    async () =>
      (await send(api.v1.segments[":id"].$get({ param: { id: "computed-big-spenders" } }))).json,
    (s) => s.status === "ready",
    "segment",
  );
});

describe("computed attributes", () => {
  it("are computed for profiles that existed before the definition, with progress on GET", async () => {
    expect(await computedOf("crm", "BF-1")).toEqual({
      ltv: 65,
      orders: 2,
      "orders-30d": 1,
      "last-sku": "MUG",
      "top-category": "camping",
      "avg-order": 32.5,
      "largest-order": 40,
      categories: 2,
    });
    const one = (await send(api.v1["computed-attributes"][":id"].$get({ param: { id: "ltv" } })))
      .json;
    expect(one).toMatchObject({
      status: "ready",
      progress: { computedIdentities: expect.any(Number) },
    });
    expect(one.progress.computedIdentities).toBeGreaterThanOrEqual(1);
    const list = (await send(api.v1["computed-attributes"].$get())).json;
    expect(list.items.map((a) => a.id).sort()).toEqual(Object.keys(DEFINITIONS).sort());
  });

  it("one purchase: the very next lookup shows the values, with provenance and the name", async () => {
    await postEvents([
      purchase("now-1", [id("email", "now@example.com")], 19.99, {
        sku: "HAT",
        category: "clothing",
      }),
    ]);
    const p = await profile("email", "now@example.com");
    expect(p.attributes.computed).toMatchObject({
      ltv: 19.99,
      orders: 1,
      "orders-30d": 1,
      "last-sku": "HAT",
      "top-category": "clothing",
    });
    expect(p.attributes.computed).not.toHaveProperty("big-orders-eur");
    expect(p.provenance["computed.ltv"]).toMatchObject({
      dataset: "computed",
      name: "Lifetime value",
      events: 1,
      computedAt: expect.any(String),
    });
    await postEvents([
      purchase("now-2", [id("email", "now@example.com")], 5.01, {
        sku: "SOCKS",
        category: "clothing",
      }),
    ]);
    const after = await profile("email", "now@example.com");
    expect(after.attributes.computed).toMatchObject({
      ltv: 25,
      orders: 2,
      "last-sku": "SOCKS",
      categories: 1,
    });
    expect(after.provenance["computed.orders"]).toMatchObject({ events: 2 });
  });

  it("a segment on a computed value is entered in the request whose purchase crosses the line", async () => {
    await postEvents([purchase("seg-1", [id("crm", "SEG-C")], 60)]);
    expect((await profile("crm", "SEG-C")).segments).toEqual([]);
    await postEvents([purchase("seg-2", [id("crm", "SEG-C")], 45)]);
    const p = await profile("crm", "SEG-C");
    expect(p.attributes.computed).toMatchObject({ ltv: 105 });
    expect(p.attributes.computed).not.toHaveProperty("big-orders-eur"); // neither order reached 100
    expect(p.segments).toContainEqual(
      expect.objectContaining({ id: "computed-big-spenders", status: "realized" }),
    );
  });

  it("a merge gives the union's values; an unlink gives each part its own", async () => {
    await postEvents([
      purchase("m-1", [id("crm", "MERGE-A")], 120, { sku: "BOOTS", category: "shoes" }, ago(3)),
      purchase(
        "m-2",
        [id("email", "merge-b@example.com")],
        30,
        { sku: "LACES", category: "shoes" },
        ago(2),
      ),
    ]);
    expect(await computedOf("crm", "MERGE-A")).toMatchObject({
      ltv: 120,
      orders: 1,
      "big-orders-eur": 1,
    });
    expect(await computedOf("email", "merge-b@example.com")).toMatchObject({ ltv: 30, orders: 1 });

    await postRecords([
      {
        dataset: "default",
        identities: [id("crm", "MERGE-A"), id("email", "merge-b@example.com")],
        attributes: { firstName: "Merged" },
      },
    ]);
    const merged = await profile("crm", "MERGE-A");
    expect(merged.attributes.computed).toMatchObject({
      ltv: 150,
      orders: 2,
      "last-sku": "LACES",
      "largest-order": 120,
      "big-orders-eur": 1,
    });
    expect((await profile("email", "merge-b@example.com")).profileId).toBe(merged.profileId);

    expect(
      await send(
        api.v1.links.$delete({ query: { from: "crm:MERGE-A", to: "email:merge-b@example.com" } }),
      ),
    ).toHaveStatus(200);
    expect(await computedOf("crm", "MERGE-A")).toMatchObject({
      ltv: 120,
      orders: 1,
      "last-sku": "BOOTS",
    });
    const b = await profile("email", "merge-b@example.com");
    expect(b.attributes.computed).toMatchObject({ ltv: 30, orders: 1, "last-sku": "LACES" });
    expect(b.attributes.computed).not.toHaveProperty("big-orders-eur");
    expect(b.profileId).not.toBe(merged.profileId);
  });

  it("deleting an identity removes its events' share", async () => {
    await postEvents([
      purchase("del-1", [id("crm", "DEL-A"), id("device", "del-device-000001")], 10, {}, ago(3)),
      purchase("del-2", [id("device", "del-device-000001")], 7, {}, ago(2)),
    ]);
    // Events anchor on the highest-priority identity they carry: crm for the first, the device for the second.
    expect(await computedOf("crm", "DEL-A")).toMatchObject({ ltv: 17, orders: 2 });
    expect(
      await send(
        api.v1.identities[":namespace"][":id"].$delete({
          param: { namespace: "device", id: "del-device-000001" },
        }),
      ),
    ).toHaveStatus(200);
    expect(await computedOf("crm", "DEL-A")).toMatchObject({ ltv: 10, orders: 1 });
  });

  it("a rolling window drops an event on the recheck schedule", async () => {
    await postEvents([
      purchase("win-1", [id("crm", "WIN-A")], 10, {}, ago(29.5)),
      purchase("win-2", [id("crm", "WIN-A")], 10, {}, ago(1)),
    ]);
    expect(await computedOf("crm", "WIN-A")).toMatchObject({ orders: 2, "orders-30d": 2 });
    await worker.scheduled(
      createScheduledController({ scheduledTime: new Date(now + DAY), cron: "*/5 * * * *" }),
      env,
    );
    expect(await computedOf("crm", "WIN-A")).toMatchObject({ orders: 2, "orders-30d": 1 });
    await worker.scheduled(
      createScheduledController({ scheduledTime: new Date(now + 30 * DAY), cron: "*/5 * * * *" }),
      env,
    );
    const later = await computedOf("crm", "WIN-A");
    expect(later).toMatchObject({ orders: 2 });
    expect(later).not.toHaveProperty("orders-30d");
  });

  it("retention: an expired event's share leaves the values", async () => {
    expect(await putDataset("computed-web", { kind: "events", ttlDays: 30 })).toHaveStatus(200);
    await postEvents([
      { ...purchase("ret-old", [id("crm", "RET-C")], 70, {}, ago(40)), dataset: "computed-web" },
      { ...purchase("ret-new", [id("crm", "RET-C")], 30, {}, ago(2)), dataset: "computed-web" },
    ]);
    expect(await computedOf("crm", "RET-C")).toMatchObject({ ltv: 100, orders: 2 });
    expect((await profile("crm", "RET-C")).segments).toContainEqual(
      expect.objectContaining({ id: "computed-big-spenders", status: "realized" }),
    );
    const started = await send(api.v1.maintenance.runs.$post());
    expect(started).toHaveStatus(202);
    await poll(
      async () =>
        (await send(api.v1.maintenance.runs.$get())).json.items.find(
          (r) => r.runId === started.json.runId,
        ),
      (r) => r?.status === "completed" || r?.status === "failed",
      "the maintenance run",
    );
    const p = await profile("crm", "RET-C");
    expect(p.attributes.computed).toMatchObject({ ltv: 30, orders: 1 });
    expect(p.segments).toContainEqual(
      expect.objectContaining({ id: "computed-big-spenders", status: "exited" }),
    );
  });

  it("search finds profiles by a computed value", async () => {
    const res = await send(api.v1.profiles.$get({ query: { "attr.computed.ltv": "105" } }));
    expect(res.status, res.text).toBe(200);
    expect(res.json.items.map((i) => i.primaryIdentity.id)).toEqual(["SEG-C"]);
  });

  it("works wherever an attribute works: the personalization allow-list, webhook attributes, data views", async () => {
    const ORIGIN = "https://computed.example";
    expect(
      await send(api.v1.settings.personalization.$put({ json: { attributes: ["computed.ltv"] } })),
    ).toHaveStatus(200);
    const site = await createPublicKey([ORIGIN]);
    const token = await identityToken(site.siteSecret, "crm:SEG-C");
    const context = await send(
      apiClient(site.key).v1.context.$get(
        { query: { device: "computed-device-0001", identityToken: token } },
        { headers: { origin: ORIGIN } },
      ),
    );
    expect(context.status, context.text).toBe(200);
    expect(context.json.attributes).toEqual({ computed: { ltv: 105 } });

    const hook: JsonBody<(typeof api.v1.destinations)[":name"]["$put"]> = {
      type: "webhook",
      url: "https://hooks.example.com/computed",
      events: ["segment.entered"],
      segments: ["computed-big-spenders"],
      attributes: ["computed.ltv", "computed.orders"],
    };
    expect(await putDestination("computed-hooks", hook)).toHaveStatus(200);
    await postEvents([purchase("hook-1", [id("crm", "HOOK-C")], 150, {}, ago(1))]);
    const { profileId } = await profile("crm", "HOOK-C");
    const delivery = await poll(
      () =>
        env.DB.prepare(
          "SELECT payload FROM webhook_deliveries WHERE destination = 'computed-hooks' AND profile_id = ?1",
        )
          .bind(profileId)
          .first<{ payload: string }>(),
      (row) => row !== null,
      "the segment.entered delivery",
    );
    expect(JSON.parse(delivery!.payload).data.attributes).toEqual({
      computed: { ltv: 150, orders: 1 },
    });

    const view: JsonBody<(typeof api.v1)["data-views"][":id"]["$put"]> = {
      name: "Orders by count",
      dimensions: [{ id: "orders", field: "profile.computed.orders" }],
      metrics: [{ id: "buyers", aggregate: "profiles", filter: { type: ["purchase"] } }],
    };
    expect(
      await send(
        api.v1["data-views"][":id"].$put({ param: { id: "computed-orders" }, json: view }),
      ),
    ).toHaveStatus(200);
    const report = await viewReport("computed-orders", {
      from: ago(3).slice(0, 10),
      to: ago(-1).slice(0, 10),
      dimension: "orders",
      metrics: "buyers",
      tz: "UTC",
    });
    expect(report.status, report.text).toBe(200);
    const keys = having(report.json, "items").items.map((i) => i.key);
    expect(keys).toContain("1");
    expect(keys).toContain("2");
  });

  it("a record's own `computed` attributes never shadow the computed values", async () => {
    await postRecords([
      {
        dataset: "default",
        identities: [id("crm", "SEG-C")],
        attributes: { computed: { ltv: 1 } },
      },
    ]);
    expect(await computedOf("crm", "SEG-C")).toMatchObject({ ltv: 105 });
  });

  it("changing a definition recomputes it; deleting one removes its values in the background", async () => {
    expect(
      await send(
        api.v1["computed-attributes"][":id"].$put({
          param: { id: "largest-order" },
          json: {
            name: "Largest purchase",
            aggregate: "max",
            field: "data.amount",
            filter: { type: ["purchase"], where: [{ attr: "data.amount", op: "lt", value: 100 }] },
          },
        }),
      ),
    ).toHaveStatus(200);
    await waitReady("largest-order");
    expect(await computedOf("crm", "BF-1")).toMatchObject({ "largest-order": 40 });
    expect(await computedOf("crm", "MERGE-A")).not.toHaveProperty("largest-order");

    expect(
      await send(api.v1["computed-attributes"][":id"].$delete({ param: { id: "categories" } })),
    ).toHaveStatus(200);
    expect(
      await send(api.v1["computed-attributes"][":id"].$get({ param: { id: "categories" } })),
    ).toHaveStatus(404);
    await poll(
      () => computedOf("crm", "BF-1"),
      (c) => !("categories" in c),
      "categories to leave BF-1",
    );
    expect(await computedOf("crm", "BF-1")).toMatchObject({ ltv: 65 });
  });
});

import { describe, expect, it } from "vitest";
import {
  api,
  apiClient,
  call,
  createPublicKey,
  id,
  identityToken,
  iso,
  postEvents,
  postRecords,
  putDataset,
  putSegment,
  send,
  waitForSegment,
} from "../helpers";
import { startJournals, takeJournals } from "../shards";

const ORIGIN = "https://shop.example";
const DAY = 86_400_000;
const DEVICE = "visitor-device-000000001";

describe("a visitor, anonymous then signed in", () => {
  it("scenario: collect as anonymous device D, log in as crm:42 (gold, 2 purchases in 30 days) → known, segments, allow-listed attributes only", async () => {
    const site = await createPublicKey([ORIGIN]);
    await putDataset("crm", { kind: "records" });
    await send(
      api.v1.settings.personalization.$put({ json: { attributes: ["firstName", "loyalty.tier"] } }),
    );
    await putSegment("gold-members", {
      name: "Gold members",
      public: true,
      rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
    });
    await putSegment("frequent-buyers", {
      name: "Frequent buyers",
      public: true,
      rule: { event: "purchase", within: "P30D", count: { gte: 2 } },
    });
    await putSegment("internal-vip", {
      name: "Internal",
      public: false,
      rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
    });
    await waitForSegment("gold-members");

    await postRecords([
      {
        dataset: "crm",
        identities: [id("crm", "42"), id("email", "gold@example.com")],
        attributes: {
          firstName: "Greta",
          lastName: "Gold",
          loyalty: { tier: "gold", points: 900 },
          email: "gold@example.com",
        },
      },
    ]);
    await postEvents([
      {
        id: "p42-1",
        type: "purchase",
        timestamp: iso(Date.now() - 3 * DAY),
        identities: [id("crm", "42")],
      },
      {
        id: "p42-2",
        type: "purchase",
        timestamp: iso(Date.now() - 10 * DAY),
        identities: [id("crm", "42")],
      },
    ]);

    // Anonymous browsing: page views through collect.
    for (let i = 0; i < 3; i++) {
      // As navigator.sendBeacon sends it: a text/plain body, which the typed client cannot.
      const res = await call("POST", `/v1/collect?key=${site.key}&device=${DEVICE}`, {
        key: null,
        body: JSON.stringify({ events: [{ type: "page.view", data: { url: `/p/${i}` } }] }),
        headers: { "content-type": "text/plain", origin: ORIGIN },
      });
      expect(res).toHaveStatus(200);
      expect(res.json).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    }
    const anonymous = await send(
      apiClient(null).v1.context.$get(
        { query: { key: site.key, device: DEVICE } },
        { headers: { origin: ORIGIN } },
      ),
    );
    expect(anonymous).toHaveStatus(200);
    expect(anonymous.json).toEqual({ device: DEVICE, known: false, segments: [], attributes: {} });
    expect(anonymous.headers.get("cache-control")).toContain("private");

    // The site logs the visitor in and passes a token signed with its site secret.
    const token = await identityToken(site.siteSecret, "crm:42");
    const known = await send(
      apiClient(site.key).v1.context.$get(
        { query: { device: DEVICE, identityToken: token } },
        { headers: { origin: ORIGIN } },
      ),
    );
    expect(known).toHaveStatus(200);
    expect(known.json.known).toBe(true);
    expect(known.json.segments).toEqual(["frequent-buyers", "gold-members"]);
    expect(known.json.attributes).toEqual({ firstName: "Greta", loyalty: { tier: "gold" } });

    // The device is now linked to crm:42 (with the page views it collected).
    const graph = await send(
      api.v1.identities[":namespace"][":id"].graph.$get({
        param: { namespace: "device", id: DEVICE },
      }),
    );
    expect(graph.json.identities.map((i) => `${i.namespace}:${i.id}`)).toContain("crm:42");
    // …but without the token, the same device is anonymous again: only its own data counts.
    const again = await send(
      apiClient(null).v1.context.$get(
        { query: { key: site.key, device: DEVICE } },
        { headers: { origin: ORIGIN } },
      ),
    );
    expect(again.json).toEqual({ device: DEVICE, known: false, segments: [], attributes: {} });
  });

  it("anonymous visitors are still segmented by what their own device did", async () => {
    const site = await createPublicKey([ORIGIN]);
    await putSegment("sale-hunters", {
      name: "Sale hunters",
      public: true,
      rule: {
        event: "page.view",
        within: "P1D",
        count: { gte: 2 },
        where: { attr: "url", op: "startsWith", value: "/sale" },
      },
    });
    const device = "sale-hunter-device-0001";
    const view = (url: string) =>
      send(
        apiClient(site.key).v1.collect.$post(
          { query: { device }, json: { events: [{ type: "page.view", data: { url } }] } },
          { headers: { origin: ORIGIN } },
        ),
      );
    await view("/sale/shoes");
    expect(
      (
        await send(
          apiClient(site.key).v1.context.$get(
            { query: { device } },
            { headers: { origin: ORIGIN } },
          ),
        )
      ).json.segments,
    ).toEqual([]);
    await view("/sale/tents");
    expect(
      (
        await send(
          apiClient(site.key).v1.context.$get(
            { query: { device } },
            { headers: { origin: ORIGIN } },
          ),
        )
      ).json.segments,
    ).toEqual(["sale-hunters"]);
  });

  it("collect: allowed types only, no identities, rate limited per device with Retry-After", async () => {
    const site = await createPublicKey([ORIGIN]);
    const device = "rate-limited-device-01";
    const post = (body: Parameters<typeof api.v1.collect.$post>[0]["json"]) =>
      send(
        apiClient(site.key).v1.collect.$post(
          { query: { device }, json: body },
          { headers: { origin: ORIGIN } },
        ),
      );
    const typed = await post({
      events: [{ type: "purchase", data: { amount: 1000 } }, { type: "click" }],
    });
    expect(typed.json.accepted).toBe(1);
    expect(typed.json.rejected).toEqual([
      { index: 0, error: expect.objectContaining({ code: "type_not_allowed" }) },
    ]);
    // Fields a public key may not send: raw calls, as the typed client refuses them.
    const hostile = (body: unknown) =>
      call("POST", `/v1/collect?device=${device}`, {
        key: site.key,
        body,
        headers: { origin: ORIGIN },
      });
    const sneaky = await hostile({
      events: [{ type: "page.view", identities: [{ namespace: "crm", id: "42" }] }],
    });
    expect(sneaky).toHaveStatus(400);
    const attrs = await hostile({
      events: [{ type: "page.view" }],
      attributes: { loyalty: { tier: "gold" } },
    });
    expect(attrs).toHaveStatus(400);
    // 60 a minute per device, in windows aligned to the clock: 130 tries reach the limit
    // even when a window's edge falls inside the loop and the count restarts.
    let limited;
    for (let i = 0; i < 130 && !limited; i++) {
      const res = await post({ events: [{ type: "click" }] });
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expect(limited!.error?.code).toBe("rate_limited");
    expect(limited!.headers.get("retry-after")).toBe("60");
  });
});

describe("a signed-in visitor's page views", () => {
  it("link the device through the write lane once; repeat views with the same token write nothing", async () => {
    const site = await createPublicKey([ORIGIN]);
    await postRecords([
      { dataset: "default", identities: [id("crm", "repeat-1")], attributes: { firstName: "Rae" } },
    ]);
    const token = await identityToken(site.siteSecret, "crm:repeat-1");
    const device = "repeat-device-00000001";
    await startJournals();
    for (let i = 0; i < 5; i++) {
      const res = await send(
        apiClient(site.key).v1.context.$get(
          { query: { device, identityToken: token } },
          { headers: { origin: ORIGIN } },
        ),
      );
      expect(res.json.known).toBe(true);
    }
    const journal = await takeJournals();
    const links = journal.filter(
      (e) => e.kind === "ingest" && e.command.items.some((it) => it.kind === "link"),
    );
    expect(links).toHaveLength(1);
  });
});

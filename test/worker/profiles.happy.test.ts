import { describe, expect, it } from "vitest";
import { customers, eventsFor, recordsFor } from "../../scripts/lib/demo-data.mjs";
import { api, call, createKey, id, iso, postEvents, postRecords, unwrap } from "../helpers";

const T1 = Date.now() - 5 * 24 * 3600_000;
const T2 = T1 + 3600_000;

async function setupJohn() {
  await call("PUT", "/v1/datasets/crm", { body: { kind: "records" } });
  await call("PUT", "/v1/datasets/loyalty", { body: { kind: "records" } });
  await postRecords([
    {
      dataset: "crm",
      identities: [id("crm", "J-1"), id("email", "John.Policy@Luma.com")],
      attributes: { firstName: "John", lastName: "Policy", address: { city: "Delft" } },
      timestamp: iso(T1),
    },
    {
      dataset: "loyalty",
      identities: [id("loyalty", "LP-1"), id("crm", "J-1")],
      attributes: { firstName: "Johnny", loyalty: { tier: "gold" } },
      timestamp: iso(T2),
    },
    {
      dataset: "default",
      identities: [id("email", "john.policy@luma.com")],
      attributes: { newsletter: true },
      timestamp: iso(T1),
    },
  ]);
}

describe("merged profiles", () => {
  it("default policy: newest wins with provenance; dataset-precedence [crm]; idStitching none", async () => {
    await setupJohn();
    const res = await call(
      "GET",
      "/v1/profiles/by-identity/email/JOHN.POLICY@luma.com?include=provenance",
    );
    expect(res).toHaveStatus(200);
    expect(res.json.attributes).toEqual({
      firstName: "Johnny",
      lastName: "Policy",
      address: { city: "Delft" },
      loyalty: { tier: "gold" },
      newsletter: true,
    });
    expect(res.json.provenance.firstName).toEqual({
      dataset: "loyalty",
      identity: { namespace: "loyalty", id: "LP-1" },
      timestamp: iso(T2),
    });
    expect(res.json.primaryIdentity).toEqual({ namespace: "crm", id: "J-1" });
    expect(res.json.identities.map((i: any) => `${i.namespace}:${i.id}`).sort()).toEqual([
      "crm:J-1",
      "email:john.policy@luma.com",
      "loyalty:LP-1",
    ]);
    expect(res.json.displayName).toBe("Johnny Policy");

    const put = await call("PUT", "/v1/merge-policies/crm-first", {
      body: { type: "dataset-precedence", datasets: ["crm"] },
    });
    expect(put).toHaveStatus(200);
    const crmFirst = await call(
      "GET",
      "/v1/profiles/by-identity/crm/J-1?mergePolicy=crm-first&include=provenance",
    );
    expect(crmFirst.json.attributes.firstName).toBe("John");
    expect(crmFirst.json.provenance.firstName.dataset).toBe("crm");

    await call("PUT", "/v1/merge-policies/own-only", {
      body: { type: "timestamp", idStitching: "none" },
    });
    const own = await call(
      "GET",
      "/v1/profiles/by-identity/email/john.policy@luma.com?mergePolicy=own-only",
    );
    expect(own.json.attributes).toEqual({ newsletter: true });

    const unknown = await call("GET", "/v1/profiles/by-identity/crm/J-1?mergePolicy=nope");
    expect(unknown).toHaveStatus(400);
    const list = await call("GET", "/v1/merge-policies");
    expect(list.json.items.find((p: any) => p.default).name).toBe("default");
  });

  it("profile by id, includes, 404 and 400", async () => {
    await setupJohn();
    await postEvents([
      {
        id: "jp-1",
        type: "purchase",
        timestamp: iso(T2),
        identities: [id("crm", "J-1")],
        data: { amount: 5 },
      },
    ]);
    const byIdentity = await call("GET", "/v1/profiles/by-identity/crm/J-1");
    const byId = await call(
      "GET",
      `/v1/profiles/${byIdentity.json.profileId}?include=events,segments,graph&events.limit=5`,
    );
    expect(byId).toHaveStatus(200);
    expect(byId.json.events[0]).toMatchObject({
      id: "jp-1",
      type: "purchase",
      identity: { namespace: "crm", id: "J-1" },
      data: { amount: 5 },
    });
    expect(byId.json.segments).toEqual([]);
    expect(byId.json.graph.links.length).toBeGreaterThan(0);
    expect(await call("GET", "/v1/profiles/by-identity/crm/nobody")).toHaveStatus(404);
    expect(await call("GET", "/v1/profiles/by-identity/email/not-an-email")).toHaveStatus(400);
    expect(await call("GET", "/v1/profiles/00000000-0000-0000-0000-000000000000")).toHaveStatus(
      404,
    );
    expect(await call("GET", "/v1/profiles/by-identity/crm/J-1?include=everything")).toHaveStatus(
      400,
    );
  });

  it("strong ETag: If-None-Match gives 304; a new write changes the ETag", async () => {
    await setupJohn();
    const first = await call("GET", "/v1/profiles/by-identity/crm/J-1");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    const again = await call("GET", "/v1/profiles/by-identity/crm/J-1", {
      headers: { "if-none-match": etag },
    });
    expect(again).toHaveStatus(304);
    expect(again.text).toBe("");
    await postRecords([
      {
        dataset: "crm",
        identities: [id("crm", "J-1")],
        attributes: { address: { city: "Leiden" } },
      },
    ]);
    const changed = await call("GET", "/v1/profiles/by-identity/crm/J-1", {
      headers: { "if-none-match": etag },
    });
    expect(changed).toHaveStatus(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
  });

  it("timeline: every identity's events, newest first, filtered and paged", async () => {
    await postEvents(
      Array.from({ length: 25 }, (_, i) => ({
        id: `tl-${i}`,
        type: i % 2 ? "purchase" : "page.view",
        timestamp: iso(T1 + i * 60_000),
        identities:
          i % 3 ? [id("crm", "TL-1")] : [id("device", "timeline-device-001"), id("crm", "TL-1")],
      })),
    );
    const profile = (await call("GET", "/v1/profiles/by-identity/crm/TL-1")).json.profileId;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        "GET",
        `/v1/profiles/${profile}/events?limit=10${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...page.json.items.map((e: any) => e.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `tl-${24 - i}`));
    const purchases = await call(
      "GET",
      `/v1/profiles/${profile}/events?type=purchase&from=${iso(T1 + 10 * 60_000)}`,
    );
    expect(purchases.json.items.map((e: any) => e.id)).toEqual([
      "tl-23",
      "tl-21",
      "tl-19",
      "tl-17",
      "tl-15",
      "tl-13",
      "tl-11",
    ]);
    expect(await call("GET", `/v1/profiles/${profile}/events?cursor=garbage`)).toHaveStatus(400);
  });
});

describe("attribute labels", () => {
  it("a dataset schema's property titles label the attributes in provenance; computed names and untitled paths stay", async () => {
    const schema = {
      type: "object",
      properties: {
        loyalty: {
          type: "object",
          properties: { tier: { type: "string", title: "Loyalty tier" } },
        },
        phoneOk: { type: "boolean", title: "  May we call?  " },
        note: { type: "string" },
      },
    };
    expect(
      await call("PUT", "/v1/datasets/labelled-crm", { body: { kind: "records", schema } }),
    ).toHaveStatus(200);
    await postRecords([
      {
        dataset: "labelled-crm",
        identities: [id("crm", "LABEL-1")],
        attributes: { loyalty: { tier: "gold" }, phoneOk: true, note: "x" },
      },
    ]);
    const profile = await call("GET", "/v1/profiles/by-identity/crm/LABEL-1?include=provenance");
    expect(profile.json.provenance["loyalty.tier"]).toMatchObject({
      dataset: "labelled-crm",
      name: "Loyalty tier",
    });
    expect(profile.json.provenance.phoneOk.name).toBe("May we call?");
    expect(profile.json.provenance.note.name).toBeUndefined();
    // Without include=provenance nothing changes in the answer.
    expect(
      (await call("GET", "/v1/profiles/by-identity/crm/LABEL-1")).json.provenance,
    ).toBeUndefined();
  });
});

describe("ids with URL characters", () => {
  it("round-trip through the typed client: lookup, graph and identity delete address exactly that id", async () => {
    const ids = ["pc?x=1", "pc%41", "pcA", "pc/slash", "pc#frag x"];
    await postRecords(
      ids.map((value) => ({
        dataset: "default",
        identities: [id("crm", value)],
        attributes: { label: value },
      })),
    );
    for (const value of ids) {
      const profile = await unwrap(
        api.v1.profiles["by-identity"][":namespace"][":id"].$get({
          param: { namespace: "crm", id: value },
          query: {},
        }),
      );
      expect(profile.attributes).toEqual({ label: value });
      const graph = await unwrap(
        api.v1.identities[":namespace"][":id"].graph.$get({
          param: { namespace: "crm", id: value },
        }),
      );
      expect(graph.identities.map((i) => i.id)).toEqual([value]);
    }
    expect(
      await api.v1.identities[":namespace"][":id"].$delete({
        param: { namespace: "crm", id: "pc%41" },
      }),
    ).toHaveStatus(200);
    expect(
      await api.v1.profiles["by-identity"][":namespace"][":id"].$get({
        param: { namespace: "crm", id: "pcA" },
        query: {},
      }),
    ).toHaveStatus(200);
  });
});

describe("search on the demo data", () => {
  it("q=john finds John Greene by name and by e-mail prefix; attr filter; pagination exactly once", async () => {
    for (const [name, kind] of [
      ["crm", "records"],
      ["loyalty", "records"],
      ["orders", "events"],
    ])
      await call("PUT", `/v1/datasets/${name}`, { body: { kind } });
    const people = customers(80);
    await postRecords(recordsFor(people));
    await postEvents(eventsFor(people).slice(0, 1000));

    const byName = await call("GET", "/v1/profiles?q=john");
    const john = byName.json.items.find((p: any) => p.displayName === "John Greene");
    expect(john).toBeDefined();
    expect(john.primaryIdentity).toEqual({ namespace: "crm", id: "CUST-10000" });
    const byLastName = await call("GET", "/v1/profiles?q=GREE");
    expect(byLastName.json.items.map((p: any) => p.profileId)).toContain(john.profileId);
    // Several words: each prefixes a word of the name, in any order.
    for (const q of ["john%20gr", "gree%20jo", "JOHN%20GREENE"]) {
      expect(
        (await call("GET", `/v1/profiles?q=${q}`)).json.items.map((p: any) => p.profileId),
      ).toContain(john.profileId);
    }
    expect(
      (await call("GET", "/v1/profiles?q=john%20zz")).json.items.map((p: any) => p.profileId),
    ).not.toContain(john.profileId);
    // New profile ids are 13 base64url characters: "p", the home bucket, 54 random bits.
    expect(john.profileId).toMatch(/^p[A-Za-z0-9_-]{12}$/);
    const byEmail = await call("GET", "/v1/profiles?q=john.gr&namespace=email");
    expect(byEmail.json.items.map((p: any) => p.profileId)).toEqual([john.profileId]);

    const gold = people.filter((p: any) => p.loyalty && p.tier === "gold").map((p: any) => p.crm);
    const found: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        "GET",
        `/v1/profiles?attr.loyalty.tier=gold&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      found.push(...page.json.items.map((p: any) => p.primaryIdentity.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(found.length).toBe(new Set(found).size);
    // (Other tests in this file add their own gold members; compare the demo customers.)
    expect(found.filter((f) => f.startsWith("CUST-")).sort()).toEqual([...gold].sort());

    const everyone: string[] = [];
    cursor = null;
    do {
      const page: any = await call(
        "GET",
        `/v1/profiles?limit=7${cursor ? `&cursor=${cursor}` : ""}`,
      );
      everyone.push(...page.json.items.map((p: any) => p.profileId));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(new Set(everyone).size).toBe(everyone.length);
    expect(everyone.length).toBeGreaterThanOrEqual(80);
  });

  it("reads are audited with the key that made them; the audit needs admin", async () => {
    await setupJohn();
    const reader = await createKey(["profiles:read"], "support desk");
    const keys = (await call("GET", "/v1/keys")).json.items;
    const readerId = keys.find((k: any) => k.name === "support desk").id;
    const res = await call("GET", "/v1/profiles/by-identity/crm/J-1", { key: reader });
    expect(res).toHaveStatus(200);
    let entry: any;
    for (let i = 0; i < 50 && !entry; i++) {
      entry = (await call("GET", "/v1/audit")).json.items.find(
        (e: any) => e.keyId === readerId && e.action === "profile.read",
      );
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entry).toMatchObject({ keyId: readerId, profileId: res.json.profileId });
    expect(entry.fields).toEqual(expect.arrayContaining(["firstName", "loyalty.tier"]));
    expect(await call("GET", "/v1/audit", { key: reader })).toHaveStatus(403);
  });
});

describe("the attribute index", () => {
  it("follows rewrites, identity deletes and erasure exactly (rows are removed by their recomputed keys)", async () => {
    const { env } = await import("cloudflare:test");
    const rows = async () =>
      (
        await env.DB.prepare(
          `SELECT a.path, a.value FROM attribute_index a JOIN identities i ON i.id = a.identity_id WHERE i.value = 'AIX-1' ORDER BY a.path`,
        ).all()
      ).results;
    const find = async (q: string) =>
      (await call("GET", `/v1/profiles?${q}`)).json.items.map((p: any) => p.primaryIdentity.id);
    await call("PUT", "/v1/datasets/aix", { body: { kind: "records" } });
    await postRecords([
      {
        dataset: "aix",
        identities: [id("crm", "AIX-1")],
        attributes: { tier: "gold", tags: ["a", "b"], flag: true, n: 7 },
      },
    ]);
    expect(await rows()).toEqual([
      { path: "flag", value: "true" },
      { path: "n", value: "7" },
      { path: "tags", value: '["a","b"]' },
      { path: "tier", value: "gold" },
    ]);
    expect(await find("attr.tier=gold")).toContain("AIX-1");
    await postRecords([
      {
        dataset: "aix",
        identities: [id("crm", "AIX-1")],
        attributes: { tier: "silver", tags: null, n: 8 },
      },
    ]);
    expect(await rows()).toEqual([
      { path: "flag", value: "true" },
      { path: "n", value: "8" },
      { path: "tier", value: "silver" },
    ]);
    expect(await find("attr.tier=gold")).not.toContain("AIX-1");
    expect(await find("attr.tier=silver")).toContain("AIX-1");
    const before = (await env.DB.prepare(`SELECT count(*) AS n FROM attribute_index`).first<{
      n: number;
    }>())!.n;
    expect(await call("DELETE", "/v1/profiles/by-identity/crm/AIX-1")).toHaveStatus(200);
    const after = (await env.DB.prepare(`SELECT count(*) AS n FROM attribute_index`).first<{
      n: number;
    }>())!.n;
    expect(before - after).toBe(3);
    expect(await find("attr.tier=silver")).not.toContain("AIX-1");
  });
});

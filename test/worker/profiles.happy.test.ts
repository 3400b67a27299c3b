import { describe, expect, it } from "vitest";
import { customers, eventsFor, recordsFor } from "../../scripts/lib/demo-data.mjs";
import {
  allPages,
  api,
  apiClient,
  createKey,
  id,
  iso,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  send,
  unwrap,
} from "../helpers";
import { poll } from "../poll";

const T1 = Date.now() - 5 * 24 * 3600_000;
const T2 = T1 + 3600_000;

async function setupJohn() {
  await putDataset("crm", { kind: "records" });
  await putDataset("loyalty", { kind: "records" });
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
    const res = await lookup("email", "JOHN.POLICY@luma.com", { include: "provenance" });
    expect(res).toHaveStatus(200);
    expect(res.json.attributes).toEqual({
      firstName: "Johnny",
      lastName: "Policy",
      address: { city: "Delft" },
      loyalty: { tier: "gold" },
      newsletter: true,
    });
    expect(res.json.provenance?.firstName).toEqual({
      dataset: "loyalty",
      identity: { namespace: "loyalty", id: "LP-1" },
      timestamp: iso(T2),
    });
    expect(res.json.primaryIdentity).toEqual({ namespace: "crm", id: "J-1" });
    expect(res.json.identities.map((i) => `${i.namespace}:${i.id}`).sort()).toEqual([
      "crm:J-1",
      "email:john.policy@luma.com",
      "loyalty:LP-1",
    ]);
    expect(res.json.displayName).toBe("Johnny Policy");

    const put = await send(
      api.v1["merge-policies"][":name"].$put({
        param: { name: "crm-first" },
        json: { type: "dataset-precedence", datasets: ["crm"] },
      }),
    );
    expect(put).toHaveStatus(200);
    const crmFirst = await lookup("crm", "J-1", {
      mergePolicy: "crm-first",
      include: "provenance",
    });
    expect(crmFirst.json.attributes.firstName).toBe("John");
    expect(crmFirst.json.provenance?.firstName?.dataset).toBe("crm");

    await send(
      api.v1["merge-policies"][":name"].$put({
        param: { name: "own-only" },
        json: { type: "timestamp", idStitching: "none" },
      }),
    );
    const own = await lookup("email", "john.policy@luma.com", { mergePolicy: "own-only" });
    expect(own.json.attributes).toEqual({ newsletter: true });

    const unknown = await lookup("crm", "J-1", { mergePolicy: "nope" });
    expect(unknown).toHaveStatus(400);
    const list = await send(api.v1["merge-policies"].$get());
    expect(list.json.items.find((p) => p.default)?.name).toBe("default");
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
    const byIdentity = await lookup("crm", "J-1");
    const byId = await send(
      api.v1.profiles[":profileId"].$get({
        param: { profileId: byIdentity.json.profileId },
        query: { include: "events,segments,graph", "events.limit": "5" },
      }),
    );
    expect(byId).toHaveStatus(200);
    expect(byId.json.events?.[0]).toMatchObject({
      id: "jp-1",
      type: "purchase",
      identity: { namespace: "crm", id: "J-1" },
      data: { amount: 5 },
    });
    expect(byId.json.segments).toEqual([]);
    expect(byId.json.graph?.links.length).toBeGreaterThan(0);
    expect(await lookup("crm", "nobody")).toHaveStatus(404);
    expect(await lookup("email", "not-an-email")).toHaveStatus(400);
    expect(
      await send(
        api.v1.profiles[":profileId"].$get({
          param: { profileId: "00000000-0000-0000-0000-000000000000" },
          query: {},
        }),
      ),
    ).toHaveStatus(404);
    expect(await lookup("crm", "J-1", { include: "everything" })).toHaveStatus(400);
  });

  it("strong ETag: If-None-Match gives 304; a new write changes the ETag", async () => {
    await setupJohn();
    const first = await lookup("crm", "J-1");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    const again = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$get(
        { param: { namespace: "crm", id: "J-1" }, query: {} },
        { headers: { "if-none-match": etag } },
      ),
    );
    expect(again).toHaveStatus(304);
    expect(again.text).toBe("");
    await postRecords([
      {
        dataset: "crm",
        identities: [id("crm", "J-1")],
        attributes: { address: { city: "Leiden" } },
      },
    ]);
    const changed = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$get(
        { param: { namespace: "crm", id: "J-1" }, query: {} },
        { headers: { "if-none-match": etag } },
      ),
    );
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
    const profile = (await lookup("crm", "TL-1")).json.profileId;
    const seen = (
      await allPages((cursor) =>
        unwrap(
          api.v1.profiles[":profileId"].events.$get({
            param: { profileId: profile },
            query: { limit: "10", ...cursor },
          }),
        ),
      )
    ).map((e) => e.id);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `tl-${24 - i}`));
    const purchases = await send(
      api.v1.profiles[":profileId"].events.$get({
        param: { profileId: profile },
        query: { type: "purchase", from: iso(T1 + 10 * 60_000) },
      }),
    );
    expect(purchases.json.items.map((e) => e.id)).toEqual([
      "tl-23",
      "tl-21",
      "tl-19",
      "tl-17",
      "tl-15",
      "tl-13",
      "tl-11",
    ]);
    expect(
      await send(
        api.v1.profiles[":profileId"].events.$get({
          param: { profileId: profile },
          query: { cursor: "garbage" },
        }),
      ),
    ).toHaveStatus(400);
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
    expect(await putDataset("labelled-crm", { kind: "records", schema })).toHaveStatus(200);
    await postRecords([
      {
        dataset: "labelled-crm",
        identities: [id("crm", "LABEL-1")],
        attributes: { loyalty: { tier: "gold" }, phoneOk: true, note: "x" },
      },
    ]);
    const profile = await lookup("crm", "LABEL-1", { include: "provenance" });
    expect(profile.json.provenance?.["loyalty.tier"]).toMatchObject({
      dataset: "labelled-crm",
      name: "Loyalty tier",
    });
    expect(profile.json.provenance?.phoneOk?.name).toBe("May we call?");
    expect(profile.json.provenance?.note?.name).toBeUndefined();
    // Without include=provenance nothing changes in the answer.
    expect((await lookup("crm", "LABEL-1")).json.provenance).toBeUndefined();
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
    ] as const)
      await putDataset(name, { kind });
    const people = customers(80);
    await postRecords(recordsFor(people));
    await postEvents(eventsFor(people).slice(0, 1000));

    const byName = await send(api.v1.profiles.$get({ query: { q: "john" } }));
    const john = byName.json.items.find((p) => p.displayName === "John Greene");
    expect(john).toBeDefined();
    expect(john?.primaryIdentity).toEqual({ namespace: "crm", id: "CUST-10000" });
    const byLastName = await send(api.v1.profiles.$get({ query: { q: "GREE" } }));
    expect(byLastName.json.items.map((p) => p.profileId)).toContain(john?.profileId);
    // Several words: each prefixes a word of the name, in any order.
    for (const q of ["john gr", "gree jo", "JOHN GREENE"]) {
      expect(
        (await send(api.v1.profiles.$get({ query: { q } }))).json.items.map((p) => p.profileId),
      ).toContain(john?.profileId);
    }
    expect(
      (await send(api.v1.profiles.$get({ query: { q: "john zz" } }))).json.items.map(
        (p) => p.profileId,
      ),
    ).not.toContain(john?.profileId);
    // New profile ids are 13 base64url characters: "p", the home bucket, 54 random bits.
    expect(john?.profileId).toMatch(/^p[A-Za-z0-9_-]{12}$/);
    const byEmail = await send(
      api.v1.profiles.$get({ query: { q: "john.gr", namespace: "email" } }),
    );
    expect(byEmail.json.items.map((p) => p.profileId)).toEqual([john?.profileId]);

    const gold = people.filter((p) => p.loyalty && p.tier === "gold").map((p) => p.crm);
    const found = (
      await allPages((cursor) =>
        unwrap(
          api.v1.profiles.$get({ query: { "attr.loyalty.tier": "gold", limit: "3", ...cursor } }),
        ),
      )
    ).map((p) => p.primaryIdentity.id);
    expect(found.length).toBe(new Set(found).size);
    // (Other tests in this file add their own gold members; compare the demo customers.)
    expect(found.filter((f) => f.startsWith("CUST-")).sort()).toEqual([...gold].sort());

    const everyone = (
      await allPages((cursor) => unwrap(api.v1.profiles.$get({ query: { limit: "7", ...cursor } })))
    ).map((p) => p.profileId);
    expect(new Set(everyone).size).toBe(everyone.length);
    expect(everyone.length).toBeGreaterThanOrEqual(80);
  });

  it("reads are audited with the key that made them; the audit needs admin", async () => {
    await setupJohn();
    const reader = await createKey(["profiles:read"], "support desk");
    const keys = (await send(api.v1.keys.$get())).json.items;
    const readerId = keys.find((k) => k.name === "support desk")?.id;
    const res = await send(
      apiClient(reader).v1.profiles["by-identity"][":namespace"][":id"].$get({
        param: { namespace: "crm", id: "J-1" },
        query: {},
      }),
    );
    expect(res).toHaveStatus(200);
    const entry = await poll(
      async () =>
        (await unwrap(api.v1.audit.$get({ query: {} }))).items.find(
          (e) => e.keyId === readerId && e.action === "profile.read",
        ),
      (e) => e !== undefined,
      "the read's audit entry",
      { tries: 50, everyMs: 20 },
    );
    expect(entry).toMatchObject({ keyId: readerId, profileId: res.json.profileId });
    expect(entry?.fields).toEqual(expect.arrayContaining(["firstName", "loyalty.tier"]));
    expect(await send(apiClient(reader).v1.audit.$get({ query: {} }))).toHaveStatus(403);
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
    const find = async (tier: string) =>
      (await unwrap(api.v1.profiles.$get({ query: { "attr.tier": tier } }))).items.map(
        (p) => p.primaryIdentity.id,
      );
    await putDataset("aix", { kind: "records" });
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
    expect(await find("gold")).toContain("AIX-1");
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
    expect(await find("gold")).not.toContain("AIX-1");
    expect(await find("silver")).toContain("AIX-1");
    const before = (await env.DB.prepare(`SELECT count(*) AS n FROM attribute_index`).first<{
      n: number;
    }>())!.n;
    expect(
      await send(
        api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
          param: { namespace: "crm", id: "AIX-1" },
          query: {},
        }),
      ),
    ).toHaveStatus(200);
    const after = (await env.DB.prepare(`SELECT count(*) AS n FROM attribute_index`).first<{
      n: number;
    }>())!.n;
    expect(before - after).toBe(3);
    expect(await find("silver")).not.toContain("AIX-1");
  });
});

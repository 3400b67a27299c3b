import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, graphOf, id, iso, keysOf, postEvents, postRecords, send } from "../helpers";

const T0 = Date.now() - 10 * 24 * 3600_000;
const MIN = 60_000;
const ev = (identities: { namespace: string; id: string }[], at: number, type = "page.view") => ({
  type,
  timestamp: iso(at),
  identities,
});

describe("identity graph through the API", () => {
  it("e-mail case and spacing variants are one identity and one profile", async () => {
    const out = await postEvents([
      ev([id("email", "John.Greene@Luma.com")], T0),
      ev([id("email", " john.greene@luma.com")], T0 + MIN),
      ev([id("email", "JOHN.GREENE@LUMA.COM")], T0 + 2 * MIN),
    ]);
    expect(out.accepted).toBe(3);
    expect(out.profiles).toHaveLength(1);
    const g = await graphOf("email", "John.Greene@LUMA.com");
    expect(keysOf(g)).toEqual(["email:john.greene@luma.com"]);
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n FROM identities WHERE namespace = 'email' AND value LIKE 'john.greene%'",
    ).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it("phone formats (region NL) are one identity", async () => {
    const out = await postEvents([
      ev([id("phone", "+31 6 12345678"), id("crm", "phone-owner")], T0),
      ev([id("phone", "0031612345678")], T0 + MIN),
    ]);
    expect(out.profiles).toHaveLength(1);
    expect(keysOf(await graphOf("phone", "0612345678"))).toEqual([
      "crm:phone-owner",
      "phone:+31612345678",
    ]);
  });

  it("shared device: D with crm:A, then D with crm:B → D belongs to B; A keeps its other identities; history shows the move", async () => {
    const D = "shared-device-000000000001";
    const a = await postEvents([
      ev([id("device", D), id("crm", "A-1"), id("email", "a1@example.com")], T0),
    ]);
    const b = await postEvents([ev([id("device", D), id("crm", "B-1")], T0 + MIN)]);
    const ga = await graphOf("crm", "A-1");
    const gb = await graphOf("crm", "B-1");
    expect(ga.profileId).toBe(a.profiles[0]);
    expect(gb.profileId).toBe(b.profiles[0]);
    expect(ga.profileId).not.toBe(gb.profileId);
    expect(keysOf(ga)).toEqual(["crm:A-1", "email:a1@example.com"]);
    expect(keysOf(gb)).toEqual(["crm:B-1", `device:${D}`]);
    const move = gb.history.find((h) => h.kind === "move");
    expect(move).toBeDefined();
    expect(move!.identities).toEqual([{ namespace: "device", id: D }]);
    expect(move!.profiles).toEqual([ga.profileId, gb.profileId]);
    // The old link is kept on record but not applied; the graph of A shows only its own links.
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE applied = 0").first<{
      n: number;
    }>();
    expect(stored!.n).toBeGreaterThanOrEqual(1);
  });

  it("60 devices on one e-mail, one per minute → 50 identities stay; the 11 oldest are their own profiles", async () => {
    const email = "busy@example.com";
    const device = (i: number) => `busy-device-${String(i).padStart(6, "0")}`;
    for (let i = 0; i < 60; i++)
      await postEvents([ev([id("email", email), id("device", device(i))], T0 + i * MIN)]);
    const g = await graphOf("email", email);
    expect(g.identities).toHaveLength(50);
    const kept = new Set(keysOf(g));
    for (let i = 11; i < 60; i++) expect(kept.has(`device:${device(i)}`)).toBe(true);
    for (let i = 0; i < 11; i++) {
      const own = await graphOf("device", device(i));
      expect(own.profileId).not.toBe(g.profileId);
      expect(keysOf(own)).toEqual([`device:${device(i)}`]);
    }
    expect(g.history.filter((h) => h.kind === "evict")).toHaveLength(11);
  });

  it("a crm id seen with 7 e-mails over time keeps the 5 most recently seen", async () => {
    for (let i = 0; i < 7; i++)
      await postRecords([
        {
          dataset: "default",
          identities: [id("crm", "cap-7"), id("email", `cap${i}@example.com`)],
          attributes: { n: i },
          timestamp: iso(T0 + i * MIN),
        },
      ]);
    const g = await graphOf("crm", "cap-7");
    expect(keysOf(g)).toEqual([
      "crm:cap-7",
      ...[2, 3, 4, 5, 6].map((i) => `email:cap${i}@example.com`),
    ]);
    // The two links the cap refused come with the graph, each with the profile the e-mail is in now.
    expect(g.links.every((l) => l.applied)).toBe(true);
    expect(
      g.refusedLinks
        .map((l) =>
          [l.from, l.to]
            .map((r) => `${r.namespace}:${r.id}`)
            .sort()
            .join(" "),
        )
        .sort(),
    ).toEqual(["crm:cap-7 email:cap0@example.com", "crm:cap-7 email:cap1@example.com"]);
    const cap0 = await graphOf("email", "cap0@example.com");
    expect(g.refusedLinks.map((l) => l.otherProfileId)).toContain(cap0.profileId);
    expect(g.refusedLinks.every((l) => l.applied === false && l.dataset === "default")).toBe(true);
  });

  it("split: a–b–c chain, delete b → two profiles; the higher-priority part keeps the id", async () => {
    const first = await postEvents([
      ev([id("crm", "chain-a"), id("email", "chain-b@example.com")], T0),
    ]);
    await postEvents([
      ev([id("email", "chain-b@example.com"), id("device", "chain-c-device-0001")], T0 + MIN),
    ]);
    const before = await graphOf("crm", "chain-a");
    expect(before.identities).toHaveLength(3);
    expect(before.profileId).toBe(first.profiles[0]);

    const del = await send(
      api.v1.identities[":namespace"][":id"].$delete({
        param: { namespace: "email", id: "chain-b@example.com" },
      }),
    );
    expect(del).toHaveStatus(200);
    expect(del.json.profileId).toBe(before.profileId);
    expect(del.json.profiles).toHaveLength(2);
    const a = await graphOf("crm", "chain-a");
    const c = await graphOf("device", "chain-c-device-0001");
    expect(a.profileId).toBe(before.profileId);
    expect(c.profileId).not.toBe(a.profileId);
    expect(a.history.map((h) => h.kind)).toEqual(expect.arrayContaining(["delete", "split"]));
    expect(
      await send(
        api.v1.identities[":namespace"][":id"].graph.$get({
          param: { namespace: "email", id: "chain-b@example.com" },
        }),
      ),
    ).toHaveStatus(404);
  });

  it("split by deleting a link; events ingested with a only stay with a's part", async () => {
    await postEvents([ev([id("crm", "link-a"), id("email", "link-b@example.com")], T0)]);
    await postEvents([
      ev([id("email", "link-b@example.com"), id("device", "link-c-device-0001")], T0 + MIN),
    ]);
    await postEvents([
      {
        id: "only-a-1",
        type: "purchase",
        timestamp: iso(T0 + 2 * MIN),
        identities: [id("crm", "link-a")],
      },
      {
        id: "only-a-2",
        type: "purchase",
        timestamp: iso(T0 + 3 * MIN),
        identities: [id("crm", "link-a")],
      },
    ]);
    const before = await graphOf("crm", "link-a");
    const res = await send(
      api.v1.links.$delete({ query: { from: "crm:link-a", to: "email:Link-B@example.com" } }),
    );
    expect(res).toHaveStatus(200);
    const a = await graphOf("crm", "link-a");
    const b = await graphOf("email", "link-b@example.com");
    expect(a.profileId).toBe(before.profileId);
    expect(keysOf(a)).toEqual(["crm:link-a"]);
    expect(keysOf(b)).toEqual(["device:link-c-device-0001", "email:link-b@example.com"]);
    const owners = await env.DB.prepare(
      "SELECT DISTINCT i.profile_id AS p FROM events e JOIN identities i ON i.id = e.identity_id WHERE e.id IN ('only-a-1','only-a-2')",
    ).all<{ p: string }>();
    expect(owners.results.map((r) => r.p)).toEqual([a.profileId]);
    expect(
      await send(
        api.v1.links.$delete({ query: { from: "crm:link-a", to: "email:link-b@example.com" } }),
      ),
    ).toHaveStatus(404);
  });

  it("junk ids: 100 people whose events also carry crm:0 or email:null stay 100 profiles", async () => {
    const people = Array.from({ length: 100 }, (_, i) => ({
      dataset: "default",
      identities: [id("email", `junk${i}@example.com`)],
      attributes: { n: i },
    }));
    const created = await postRecords(people);
    expect(created.profiles).toHaveLength(100);
    const junk = await postEvents(
      people.map((_, i) =>
        ev(
          [id("email", `junk${i}@example.com`), i % 2 ? id("crm", "0") : id("email", "null")],
          T0 + i,
        ),
      ),
    );
    expect(junk.accepted).toBe(0);
    expect(junk.rejected).toHaveLength(100);
    expect(new Set(junk.rejected.map((r) => r.error.code))).toEqual(new Set(["blocked_identity"]));
    const distinct = await env.DB.prepare(
      "SELECT count(DISTINCT profile_id) AS n FROM identities WHERE value LIKE 'junk%'",
    ).first<{ n: number }>();
    expect(distinct!.n).toBe(100);
    expect(
      await send(
        api.v1.identities[":namespace"][":id"].graph.$get({ param: { namespace: "crm", id: "0" } }),
      ),
    ).toHaveStatus(400);
  });

  it("namespaces are listed with their rules and can be added", async () => {
    const list = await send(api.v1.namespaces.$get());
    expect(list).toHaveStatus(200);
    const crm = list.json.items.find((n) => n.code === "crm");
    expect(crm).toMatchObject({ unique: true, priority: 100, maxPerGraph: 1, builtIn: true });
    const put = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "shopify" },
        query: {},
        json: { normalize: "lowercase", unique: true, priority: 95, blockedValues: ["/^test-/"] },
      }),
    );
    expect(put).toHaveStatus(200);
    expect(put.json).toMatchObject({ code: "shopify", unique: true, priority: 95, maxPerGraph: 1 });
    const out = await postEvents([
      ev([id("shopify", "Test-1")], T0),
      ev([id("shopify", "CUST-9")], T0),
    ]);
    expect(out.rejected).toEqual([
      { index: 0, error: expect.objectContaining({ code: "blocked_identity" }) },
    ]);
    expect(keysOf(await graphOf("shopify", "cust-9"))).toEqual(["shopify:cust-9"]);
  });
});

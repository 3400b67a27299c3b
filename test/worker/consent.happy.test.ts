/**
 * Consent per purpose (SPEC §8), through the HTTP API: settings, choices recorded per
 * identity with their history, the conflict rule on a merged profile (both ways), and
 * enforcement where data is collected (collect, browser tracking) or leaves (the context,
 * webhook destinations with purposes, exports), plus segment rules on consent.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  apiClient,
  call,
  createPublicKey,
  id,
  identityToken,
  type JsonBody,
  lookup,
  postEvents,
  postRecords,
  putDestination,
  putSegment,
  send,
} from "../helpers";
import { poll } from "../poll";

const ORIGIN = "https://consent.example";
let site: Awaited<ReturnType<typeof createPublicKey>>;

const consentOf = async (ns: string, value: string) => {
  const res = await lookup(ns, value, { include: "segments" });
  expect(res.status, res.text).toBe(200);
  return res.json as {
    profileId: string;
    consent: Record<string, { status: string; at: string | null; source: string }>;
    segments: { id: string; status: string }[];
  };
};
const record = (
  identities: { namespace: string; id: string }[],
  purposes: Record<string, "granted" | "denied">,
  extra: Record<string, unknown> = {},
) => send(api.v1.consent.$post({ json: { identities, purposes, ...extra } }));
const collect = (
  device: string,
  body: Parameters<typeof api.v1.collect.$post>[0]["json"],
  headers: Record<string, string> = {},
) =>
  send(
    apiClient(site.key).v1.collect.$post(
      { query: { device }, json: body },
      { headers: { origin: ORIGIN, ...headers } },
    ),
  );

beforeAll(async () => {
  site = await createPublicKey([ORIGIN]);
});

describe("consent settings and choices", () => {
  it("the built-in purposes apply until settings change them; settings are checked", async () => {
    const defaults = await send(api.v1.settings.consent.$get());
    expect(defaults.json).toMatchObject({ conflict: "most-restrictive" });
    expect(defaults.json.purposes.map((p) => p.id).sort()).toEqual([
      "analytics",
      "marketing",
      "personalization",
    ]);
    const bad = await send(
      api.v1.settings.consent.$put({
        json: {
          purposes: [],
          conflict: "most-restrictive",
          categories: { Advertising: "adverts" },
        },
      }),
    );
    expect(bad).toHaveStatus(400);
    expect(bad.error?.details?.[0]?.path).toBe("categories.Advertising");
    const put = await send(
      api.v1.settings.consent.$put({
        json: {
          purposes: [
            { id: "marketing", default: "granted", gpc: "deny" },
            { id: "research", default: "denied" },
          ],
          conflict: "most-restrictive",
          categories: { Advertising: "marketing", Analytics: "analytics" },
        },
      }),
    );
    expect(put.status, put.text).toBe(200);
    expect(put.json.purposes.map((p) => p.id).sort()).toEqual([
      "analytics",
      "marketing",
      "personalization",
      "research",
    ]);
  });

  it("a lookup shows each purpose with status, time and source; defaults say so", async () => {
    const res = await record(
      [id("email", "c-one@example.com")],
      { marketing: "denied" },
      { timestamp: "2026-11-01T10:00:00Z", source: "preference-center" },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.consent.marketing).toEqual({
      status: "denied",
      at: "2026-11-01T10:00:00.000Z",
      source: "preference-center",
    });
    const p = await consentOf("email", "c-one@example.com");
    expect(p.consent).toMatchObject({
      marketing: { status: "denied", source: "preference-center" },
      analytics: { status: "granted", at: null, source: "default" },
      research: { status: "denied", at: null, source: "default" },
    });
  });

  it("unknown purposes and invalid identities are 400s naming the field", async () => {
    const unknown = await record([id("email", "c-two@example.com")], { adverts: "denied" });
    expect(unknown).toHaveStatus(400);
    expect(unknown.error?.details?.[0]?.path).toBe("purposes.adverts");
    const badId = await record([id("email", "not-an-email")], { marketing: "denied" });
    expect(badId).toHaveStatus(400);
    expect(badId.error?.details?.[0]?.path).toBe("identities[0].id");
    // Not a choice the contract has: raw, as the typed client refuses it.
    const maybe = await call("POST", "/v1/consent", {
      body: { identities: [id("email", "c-two@example.com")], purposes: { marketing: "maybe" } },
    });
    expect(maybe).toHaveStatus(400);
  });

  it("a merged profile follows the conflict rule, both ways", async () => {
    await record(
      [id("crm", "CONFLICT-A")],
      { marketing: "denied" },
      { timestamp: "2026-11-01T10:00:00Z" },
    );
    await record(
      [id("email", "conflict-b@example.com")],
      { marketing: "granted" },
      { timestamp: "2026-11-02T10:00:00Z" },
    );
    await postEvents([
      {
        type: "signup",
        identities: [id("crm", "CONFLICT-A"), id("email", "conflict-b@example.com")],
      },
    ]);
    // most-restrictive: the older denial still denies.
    expect((await consentOf("crm", "CONFLICT-A")).consent.marketing).toMatchObject({
      status: "denied",
      source: "api",
    });
    const settings = (await send(api.v1.settings.consent.$get())).json;
    expect(
      await send(api.v1.settings.consent.$put({ json: { ...settings, conflict: "latest" } })),
    ).toHaveStatus(200);
    // latest: the newer grant wins.
    expect((await consentOf("crm", "CONFLICT-A")).consent.marketing).toMatchObject({
      status: "granted",
      at: "2026-11-02T10:00:00.000Z",
    });
    expect(
      await send(
        api.v1.settings.consent.$put({ json: { ...settings, conflict: "most-restrictive" } }),
      ),
    ).toHaveStatus(200);
  });

  it("history: a change is a new record, an unchanged choice is not recorded again", async () => {
    const who = [id("email", "history@example.com")];
    await record(
      who,
      { marketing: "granted" },
      { timestamp: "2026-11-01T10:00:00Z", source: "signup-form" },
    );
    await record(who, { marketing: "granted" }, { timestamp: "2026-11-02T10:00:00Z" });
    await record(
      who,
      { marketing: "denied" },
      { timestamp: "2026-11-03T10:00:00Z", source: "unsubscribe-link" },
    );
    const rows = await poll(
      async () =>
        (
          await env.DB.prepare(
            "SELECT c.status, c.source FROM consent_records c JOIN identities i ON i.id = c.identity_id WHERE i.value = 'history@example.com' ORDER BY c.at",
          ).all()
        ).results,
      (r) => r.length === 2,
      "two records",
    );
    expect(rows).toEqual([
      { status: "granted", source: "signup-form" },
      { status: "denied", source: "unsubscribe-link" },
    ]);
  });
});

describe("enforcement", () => {
  it("analytics denied: /v1/collect stores nothing for that visitor", async () => {
    const device = "consent-device-analytics-01";
    const first = await collect(device, {
      consent: { analytics: false },
      events: [{ type: "page.view", data: { url: "/a" } }],
    });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ accepted: 0, ignored: 1, reason: "consent" });
    const later = await collect(device, { events: [{ type: "page.view" }, { type: "page.view" }] });
    expect(later.json).toMatchObject({ accepted: 0, ignored: 2, reason: "consent" });
    const profile = await lookup("device", device, { include: "events" });
    expect(profile.json.events).toEqual([]);
    expect(profile.json.consent?.analytics).toMatchObject({ status: "denied", source: "browser" });
    // Granting again lets the next events through.
    const again = await collect(device, {
      consent: { analytics: true },
      events: [{ type: "page.view" }],
    });
    expect(again.json).toMatchObject({ accepted: 1 });
    expect(again.json.ignored).toBeUndefined();
  });

  it("Sec-GPC: 1 denies the purposes configured to follow it", async () => {
    const device = "consent-device-gpc-000001";
    const res = await collect(device, { events: [{ type: "page.view" }] }, { "sec-gpc": "1" });
    expect(res.json).toMatchObject({ accepted: 1 });
    const p = await consentOf("device", device);
    expect(p.consent.marketing).toMatchObject({ status: "denied", source: "gpc" });
    expect(p.consent.analytics).toMatchObject({ status: "granted", source: "default" });
  });

  it("analytics denied: browser tracking calls store nothing; Segment's categoryPreferences record choices", async () => {
    const anonymousId = "consent-tracking-anon-0001";
    // The tracking routes take Segment's message shapes as they come (no declared body):
    // the typed client sends the JSON through `init`.
    const denied = await send(
      apiClient(null).v1.t.$post(undefined, {
        headers: { origin: ORIGIN, "content-type": "application/json" },
        init: {
          body: JSON.stringify({
            writeKey: site.key,
            anonymousId,
            event: "Viewed",
            context: { consent: { categoryPreferences: { Analytics: false, Advertising: true } } },
          }),
        },
      }),
    );
    expect(denied.status, denied.text).toBe(200);
    expect(denied.json).toMatchObject({ accepted: 0, ignored: 1, reason: "consent" });
    const p = await consentOf("device", anonymousId);
    expect(p.consent.analytics).toMatchObject({ status: "denied", source: "tracking" });
    expect(p.consent.marketing).toMatchObject({ status: "granted", source: "tracking" });
    // Server-side tracking (a secret key) records choices but is not gated.
    const server = await send(
      api.v1.track.$post(undefined, {
        headers: { "content-type": "application/json" },
        init: {
          body: JSON.stringify({
            userId: "CONSENT-SERVER-1",
            event: "Order Completed",
            context: { consent: { categoryPreferences: { Advertising: false } } },
          }),
        },
      }),
    );
    expect(server.json).toMatchObject({ accepted: 1 });
  });

  it("personalization denied: /v1/context answers as for an unknown visitor", async () => {
    expect(
      await send(api.v1.settings.personalization.$put({ json: { attributes: ["firstName"] } })),
    ).toHaveStatus(200);
    await postRecords([
      { dataset: "default", identities: [id("crm", "CTX-1")], attributes: { firstName: "Cora" } },
    ]);
    const token = await identityToken(site.siteSecret, "crm:CTX-1");
    const device = "consent-context-device-01";
    const context = (consent?: string) =>
      send(
        apiClient(site.key).v1.context.$get(
          { query: { device, identityToken: token, ...(consent ? { consent } : {}) } },
          { headers: { origin: ORIGIN } },
        ),
      );
    expect((await context()).json).toMatchObject({
      known: true,
      attributes: { firstName: "Cora" },
    });
    const denied = await context("personalization:denied");
    expect(denied.json).toEqual({
      device,
      known: false,
      segments: [],
      attributes: {},
      consent: {
        analytics: "granted",
        personalization: "denied",
        marketing: "granted",
        research: "denied",
      },
    });
    expect((await context()).json).toMatchObject({
      device,
      known: false,
      segments: [],
      attributes: {},
    });
    expect((await consentOf("crm", "CTX-1")).consent.personalization).toMatchObject({
      status: "denied",
      source: "browser",
    });
    expect((await context("personalization:granted")).json).toMatchObject({
      known: true,
      attributes: { firstName: "Cora" },
    });
    expect(
      await send(
        apiClient(site.key).v1.context.$get(
          { query: { device, consent: "bogus" } },
          { headers: { origin: ORIGIN } },
        ),
      ),
    ).toHaveStatus(400);
  });

  it("segment rules test consent", async () => {
    expect(
      await putSegment("consent-marketable", {
        name: "Marketable",
        rule: { all: [{ consent: "marketing", status: "granted" }, { event: "signup" }] },
      }),
    ).toHaveStatus(200);
    await poll(
      async () =>
        (await send(api.v1.segments[":id"].$get({ param: { id: "consent-marketable" } }))).json,
      (s) => s.status === "ready",
      "segment",
    );
    await postEvents([{ type: "signup", identities: [id("crm", "SEG-CONSENT-1")] }]);
    expect((await consentOf("crm", "SEG-CONSENT-1")).segments).toContainEqual(
      expect.objectContaining({ id: "consent-marketable", status: "realized" }),
    );
    await record([id("crm", "SEG-CONSENT-1")], { marketing: "denied" });
    expect((await consentOf("crm", "SEG-CONSENT-1")).segments).toContainEqual(
      expect.objectContaining({ id: "consent-marketable", status: "exited" }),
    );
    const invalid = await putSegment("consent-bad", {
      name: "Bad",
      rule: { consent: "marketing", status: "maybe" },
    });
    expect(invalid).toHaveStatus(400);
  });

  it("a destination with purposes: nothing for profiles that have not granted them; a revocation exits with reason consent", async () => {
    expect(
      await putSegment("consent-buyers", { name: "Buyers", rule: { event: "purchase" } }),
    ).toHaveStatus(200);
    await poll(
      async () =>
        (await send(api.v1.segments[":id"].$get({ param: { id: "consent-buyers" } }))).json,
      (s) => s.status === "ready",
      "segment",
    );
    const hook: JsonBody<(typeof api.v1.destinations)[":name"]["$put"]> = {
      type: "webhook",
      url: "https://hooks.example.com/consent",
      events: ["segment.entered", "segment.exited"],
      segments: ["consent-buyers"],
      purposes: ["marketing"],
    };
    expect(await putDestination("consent-hooks", hook)).toHaveStatus(200);
    const deliveriesOf = async (profileId: string) =>
      (
        await env.DB.prepare(
          "SELECT type, payload FROM webhook_deliveries WHERE destination = 'consent-hooks' AND profile_id = ?1 ORDER BY sequence",
        )
          .bind(profileId)
          .all<{ type: string; payload: string }>()
      ).results.map((r) => ({
        type: r.type,
        reason: JSON.parse(r.payload).data.reason,
      }));

    // Never granted (research defaults to denied, but marketing defaults to granted): entered is delivered.
    await postEvents([{ type: "purchase", identities: [id("crm", "HOOK-CONSENT-1")] }]);
    const granted = await consentOf("crm", "HOOK-CONSENT-1");
    expect(
      await poll(
        () => deliveriesOf(granted.profileId),
        (d) => d.length === 1,
        "entered",
      ),
    ).toEqual([{ type: "segment.entered", reason: undefined }]);
    // Revoked: an exit with reason consent, and nothing after.
    await record([id("crm", "HOOK-CONSENT-1")], { marketing: "denied" });
    expect(
      await poll(
        () => deliveriesOf(granted.profileId),
        (d) => d.length === 2,
        "the consent exit",
      ),
    ).toEqual([
      { type: "segment.entered", reason: undefined },
      { type: "segment.exited", reason: "consent" },
    ]);
    expect((await consentOf("crm", "HOOK-CONSENT-1")).segments).toContainEqual(
      expect.objectContaining({ id: "consent-buyers", status: "realized" }),
    );

    // A profile that denied marketing before entering: nothing at all.
    await record([id("crm", "HOOK-CONSENT-2")], { marketing: "denied" });
    await postEvents([{ type: "purchase", identities: [id("crm", "HOOK-CONSENT-2")] }]);
    const denied = await consentOf("crm", "HOOK-CONSENT-2");
    expect(denied.segments).toContainEqual(
      expect.objectContaining({ id: "consent-buyers", status: "realized" }),
    );
    expect(await deliveriesOf(denied.profileId)).toEqual([]);
  });

  it("exports leave out profiles that denied marketing, and those without a declared purpose", async () => {
    await postRecords([
      {
        dataset: "default",
        identities: [id("crm", "EXP-C-YES")],
        attributes: { firstName: "Yes" },
      },
      { dataset: "default", identities: [id("crm", "EXP-C-NO")], attributes: { firstName: "No" } },
      {
        dataset: "default",
        identities: [id("crm", "EXP-C-OLD")],
        attributes: { firstName: "Old", consent: { marketing: "n" } },
      },
    ]);
    await record([id("crm", "EXP-C-NO")], { marketing: "denied" });
    await record([id("crm", "EXP-C-YES")], { research: "granted" });
    const exported = async (name: string, extra: Record<string, unknown>) => {
      expect(
        await putDestination(name, {
          type: "r2",
          prefix: `${name}/`,
          schedule: "manual",
          ...extra,
        }),
      ).toHaveStatus(200);
      const run = await send(
        api.v1.destinations[":name"].runs.$post({ param: { name }, query: {} }),
      );
      const done = await poll(
        async () =>
          (await send(api.v1.destinations[":name"].runs.$get({ param: { name } }))).json.items.find(
            (r) => r.runId === run.json.runId,
          ),
        (r) => r?.status === "completed" || r?.status === "failed",
        "run",
      );
      expect(done?.status).toBe("completed");
      const listed = await env.FILES.list({ prefix: `${name}/` });
      const texts = await Promise.all(
        listed.objects
          .filter((o) => o.key.endsWith(".ndjson.gz"))
          .map(async (o) =>
            new Response(
              (await env.FILES.get(o.key))!.body!.pipeThrough(new DecompressionStream("gzip")),
            ).text(),
          ),
      );
      return texts
        .join("")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).primaryIdentity.id as string);
    };
    const all = await exported("consent-export-all", {});
    expect(all).toContain("EXP-C-YES");
    expect(all).not.toContain("EXP-C-NO");
    expect(all).not.toContain("EXP-C-OLD");
    const research = await exported("consent-export-research", { purposes: ["research"] });
    expect(research).toContain("EXP-C-YES");
    expect(research).not.toContain("EXP-C-NO");
    expect(research.filter((p) => p.startsWith("EXP-C"))).toEqual(["EXP-C-YES"]);
  });
});

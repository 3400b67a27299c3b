import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app";
import { declaredAccess } from "../../worker/auth/middleware";
import { call, createKey, createPublicKey, id, identityToken, postRecords } from "../helpers";

const ORIGIN = "https://shop.example";
const DEVICE_A = "matrix-device-aaaaaaaa";
const DEVICE_B = "matrix-device-bbbbbbbb";
let site: Awaited<ReturnType<typeof createPublicKey>>;
let otherSite: Awaited<ReturnType<typeof createPublicKey>>;

const context = (
  key: string,
  device: string,
  extra: { token?: string; origin?: string | null } = {},
) =>
  call("GET", `/v1/context?device=${device}${extra.token ? `&identityToken=${extra.token}` : ""}`, {
    key,
    headers: extra.origin === null ? {} : { origin: extra.origin ?? ORIGIN },
  });

beforeAll(async () => {
  site = await createPublicKey([ORIGIN]);
  otherSite = await createPublicKey(["https://other.example"]);
  await call("PUT", "/v1/datasets/crm", { body: { kind: "records" } });
  await call("PUT", "/v1/settings/personalization", {
    body: { attributes: ["firstName", "loyalty.tier"] },
  });
  await postRecords([
    {
      dataset: "crm",
      identities: [id("crm", "1")],
      attributes: { firstName: "Uno", lastName: "Secret", loyalty: { tier: "gold" }, ssn: "111" },
    },
    {
      dataset: "crm",
      identities: [id("crm", "2")],
      attributes: { firstName: "Dos", lastName: "Secret", loyalty: { tier: "silver" }, ssn: "222" },
    },
    // Device B's own data, written by a back end (a device may hold attributes too).
    { dataset: "crm", identities: [id("device", DEVICE_B)], attributes: { firstName: "Bee" } },
  ]);
});

describe("security matrix", () => {
  const nonPublicRoutes = (() => {
    const app = createApp();
    const seen = new Map<string, { method: string; path: string }>();
    for (const r of app.routes) {
      if (!r.path.startsWith("/v1") || r.method === "ALL") continue;
      const access = declaredAccess(r.handler);
      if (access && access !== "public" && access !== "tracking" && access !== "anonymous")
        seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
    }
    return [...seen.values()];
  })();

  it.each(nonPublicRoutes.map((r) => [r.method, r.path]))(
    "public key on %s %s → 403",
    async (method, path) => {
      const res = await call(method, path.replace(/:([A-Za-z]+)/g, "x"), {
        key: site.key,
        headers: { origin: ORIGIN },
        body: method === "GET" ? undefined : {},
      });
      expect(res).toHaveStatus(403);
    },
  );

  const table: [
    string,
    () => Promise<{ status: number; json: any }>,
    (r: { status: number; json: any }) => void,
  ][] = [
    [
      "wrong Origin → 403",
      () => context(site.key, DEVICE_A, { origin: "https://evil.example" }),
      (r) => expect([r.status, r.json.error.code]).toEqual([403, "origin_not_allowed"]),
    ],
    [
      "no Origin or Referer → 403",
      () => context(site.key, DEVICE_A, { origin: null }),
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "another site's key from this origin → 403",
      () => context(otherSite.key, DEVICE_A),
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "secret key as ?key= → 401",
      async () =>
        call("GET", `/v1/context?device=${DEVICE_A}&key=${await createKey(["admin"])}`, {
          key: null,
          headers: { origin: ORIGIN },
        }),
      (r) => expect(r).toHaveStatus(401),
    ],
    [
      "public key as ?key= on another route → 401",
      () => call("GET", `/v1/profiles?key=${site.key}`, { key: null, headers: { origin: ORIGIN } }),
      (r) => expect(r).toHaveStatus(401),
    ],
    [
      "malformed device id → 400",
      () => context(site.key, "short"),
      (r) => expect([r.status, r.json.error.code]).toEqual([400, "invalid_identity"]),
    ],
    [
      "forged token (signed with a made-up secret) → anonymous",
      async () =>
        context(site.key, DEVICE_A, {
          token: await identityToken("ss_not-the-real-secret", "crm:1"),
        }),
      (r) => expect(r.json).toMatchObject({ known: false, attributes: {} }),
    ],
    [
      "token signed with another site's secret → anonymous",
      async () =>
        context(site.key, DEVICE_A, { token: await identityToken(otherSite.siteSecret, "crm:1") }),
      (r) => expect(r.json.known).toBe(false),
    ],
    [
      "expired token → anonymous",
      async () =>
        context(site.key, DEVICE_A, { token: await identityToken(site.siteSecret, "crm:1", -60) }),
      (r) => expect(r.json.known).toBe(false),
    ],
    [
      "garbage token → anonymous",
      () => context(site.key, DEVICE_A, { token: "not.a.jwt" }),
      (r) => expect(r.json.known).toBe(false),
    ],
    [
      "device A never receives device B's attributes",
      () => context(site.key, DEVICE_A),
      (r) =>
        expect(r.json).toEqual({ device: DEVICE_A, known: false, segments: [], attributes: {} }),
    ],
    [
      "device B receives only its own allow-listed data",
      () => context(site.key, DEVICE_B),
      (r) => expect(r.json.attributes).toEqual({ firstName: "Bee" }),
    ],
    [
      "token for crm:1 never yields crm:2's data",
      async () =>
        context(site.key, "matrix-device-crm1-0001", {
          token: await identityToken(site.siteSecret, "crm:1"),
        }),
      (r) => {
        expect(r.json.known).toBe(true);
        expect(r.json.attributes).toEqual({ firstName: "Uno", loyalty: { tier: "gold" } });
        expect(JSON.stringify(r.json)).not.toMatch(/Dos|silver|222|111|Secret/);
      },
    ],
    [
      "secret key without profiles:read cannot read",
      async () =>
        call("GET", "/v1/profiles/by-identity/crm/1", {
          key: await createKey(["ingest", "segments"]),
        }),
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "secret key without profiles:read cannot search",
      async () => call("GET", "/v1/profiles?q=uno", { key: await createKey(["ingest"]) }),
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "tokens cannot escalate scopes",
      async () =>
        call("POST", "/v1/tokens", {
          key: await createKey(["profiles:read"]),
          body: { scopes: ["profiles:read", "profiles:delete"], ttlSeconds: 300 },
        }),
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "a public key cannot mint tokens",
      () =>
        call("POST", "/v1/tokens", {
          key: site.key,
          body: { scopes: ["profiles:read"] },
          headers: { origin: ORIGIN },
        }),
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "a token restricted to crm:1 cannot read crm:2",
      async () => {
        const token = (
          await call("POST", "/v1/tokens", {
            body: { scopes: ["profiles:read"], identity: { namespace: "crm", id: "1" } },
          })
        ).json.token;
        expect(await call("GET", "/v1/profiles/by-identity/crm/1", { key: token })).toHaveStatus(
          200,
        );
        return call("GET", "/v1/profiles/by-identity/crm/2", { key: token });
      },
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "a token restricted to one identity cannot search or write",
      async () => {
        const token = (
          await call("POST", "/v1/tokens", {
            body: { scopes: ["admin"], identity: { namespace: "crm", id: "1" } },
          })
        ).json.token;
        expect(
          await call("POST", "/v1/events", {
            key: token,
            body: { type: "x", identities: [id("crm", "1")] },
          }),
        ).toHaveStatus(403);
        return call("GET", "/v1/profiles?q=dos", { key: token });
      },
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "a token's scopes are enforced",
      async () => {
        const token = (
          await call("POST", "/v1/tokens", { body: { scopes: ["profiles:read"], ttlSeconds: 120 } })
        ).json.token;
        expect(await call("GET", "/v1/profiles/by-identity/crm/2", { key: token })).toHaveStatus(
          200,
        );
        return call("POST", "/v1/records", {
          key: token,
          body: { dataset: "crm", identities: [id("crm", "9")], attributes: {} },
        });
      },
      (r) => expect(r).toHaveStatus(403),
    ],
    [
      "deleting the minting key revokes its tokens",
      async () => {
        const minter = await call("POST", "/v1/keys", {
          body: { name: "agent desk", scopes: ["profiles:read"] },
        });
        const token = (
          await call("POST", "/v1/tokens", {
            key: minter.json.key,
            body: { scopes: ["profiles:read"] },
          })
        ).json.token;
        expect(await call("GET", "/v1/profiles/by-identity/crm/1", { key: token })).toHaveStatus(
          200,
        );
        await call("DELETE", `/v1/keys/${minter.json.id}`);
        return call("GET", "/v1/profiles/by-identity/crm/1", { key: token });
      },
      (r) => expect(r).toHaveStatus(401),
    ],
    [
      "a tampered token is refused",
      async () => {
        const token: string = (
          await call("POST", "/v1/tokens", { body: { scopes: ["profiles:read"] } })
        ).json.token;
        const [h, p, s] = token.split(".");
        const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
        const forged = btoa(JSON.stringify({ ...claims, scp: ["admin"] }))
          .replace(/\+/g, "-")
          .replace(/\//g, "_")
          .replace(/=+$/, "");
        return call("GET", "/v1/keys", { key: `${h}.${forged}.${s}` });
      },
      (r) => expect(r).toHaveStatus(401),
    ],
  ];

  it.each(table.map(([name, run, check]) => [name, run, check] as const))(
    "%s",
    async (_name, run, check) => {
      check(await run());
    },
  );

  it("an attribute not on the allow-list never appears in any context response (property)", async () => {
    const token = await identityToken(site.siteSecret, "crm:1");
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,11}$/),
        fc.string({ maxLength: 8 }),
        async (name, value) => {
          fc.pre(!["firstName", "loyalty", "tier"].includes(name));
          const marker = `v-${value}-${name}`;
          await postRecords([
            {
              dataset: "crm",
              identities: [id("crm", "1")],
              attributes: { [name]: marker, loyalty: { [name]: marker } },
            },
          ]);
          for (const res of [
            await context(site.key, "matrix-device-crm1-0001", { token }),
            await context(site.key, DEVICE_A),
          ]) {
            expect(JSON.stringify(res.json)).not.toContain(marker);
            expect(
              Object.keys(res.json.attributes).every((k) => ["firstName", "loyalty"].includes(k)),
            ).toBe(true);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

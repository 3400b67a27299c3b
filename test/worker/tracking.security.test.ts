/**
 * The browser tracking API (public keys) can never be used to reach another person's data
 * (SPEC §2 "Browsers", "A visitor can never obtain another person's data"). A page is the
 * attacker's own code as easily as the site's: with their own valid identity token, an
 * attacker tries to pull a victim's identity into their profile (traits, context.traits,
 * alias both ways, an e-mail-keyed userId) and then read it through /v1/context.
 */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, clearOfMinuteEdge, identityToken, postRecords } from "../helpers";

const ORIGIN = "https://shop.example";
const browser = { "content-type": "text/plain", origin: ORIGIN };

async function send(path: string, body: object) {
  const response = await exports.default.fetch(
    new Request(`https://tessera.test${path}`, {
      method: "POST",
      headers: browser,
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, json: (await response.json()) as any };
}

async function context(key: string, device: string, token: string) {
  const response = await exports.default.fetch(
    new Request(
      `https://tessera.test/v1/context?key=${key}&device=${device}&identityToken=${encodeURIComponent(token)}`,
      { headers: { origin: ORIGIN } },
    ),
  );
  expect(response).toHaveStatus(200);
  return (await response.json()) as {
    known: boolean;
    attributes: Record<string, unknown>;
    segments: string[];
  };
}

const identitiesOf = async (ns: string, id: string) => {
  const res = await call("GET", `/v1/profiles/by-identity/${ns}/${encodeURIComponent(id)}`);
  return res.status === 200
    ? (res.json.identities as { namespace: string; id: string }[])
        .map((i) => `${i.namespace}:${i.id}`)
        .sort()
    : [];
};
const profileIdOf = async (ns: string, id: string) =>
  (await call("GET", `/v1/profiles/by-identity/${ns}/${encodeURIComponent(id)}`)).json?.profileId as
    | string
    | undefined;

async function publicKey(tracking?: { userIdNamespace: string }) {
  const res = await call("POST", "/v1/keys", {
    body: { name: "site", kind: "public", origins: [ORIGIN], ...(tracking ? { tracking } : {}) },
  });
  expect(res).toHaveStatus(201);
  return { key: res.json.key as string, siteSecret: res.json.siteSecret as string };
}

/** A victim with a crm id, an e-mail and attributes a site would show them. */
async function victim(n: string) {
  await postRecords([
    {
      dataset: "default",
      identities: [
        { namespace: "crm", id: `victim-${n}` },
        { namespace: "email", id: `victim-${n}@example.com` },
      ],
      attributes: { firstName: "Victoria", loyalty: { tier: "platinum" } },
    },
  ]);
  return { crm: `victim-${n}`, email: `victim-${n}@example.com` };
}

/** A victim known only by e-mail (no crm id), as a newsletter sign-up leaves one. */
async function emailOnlyVictim(n: string) {
  await postRecords([
    {
      dataset: "default",
      identities: [{ namespace: "email", id: `solo-${n}@example.com` }],
      attributes: { firstName: "Vera", loyalty: { tier: "gold" } },
    },
  ]);
  return `solo-${n}@example.com`;
}

beforeAll(async () => {
  expect(
    await call("PUT", "/v1/settings/personalization", {
      body: { attributes: ["firstName", "loyalty.tier"] },
    }),
  ).toHaveStatus(200);
});

describe("browser tracking: no identity takeover", () => {
  it("traits.email of another person is an attribute, never an identity; the context stays the attacker's own", async () => {
    const { key, siteSecret } = await publicKey();
    const target = await emailOnlyVictim("traits");
    const device = "attacker-device-traits-0001";
    const token = await identityToken(siteSecret, "crm:att-traits");
    const res = await send("/v1/identify", {
      writeKey: key,
      type: "identify",
      userId: "att-traits",
      anonymousId: device,
      traits: { email: target },
      context: { tessera: { identityToken: token } },
    });
    expect(res.json).toMatchObject({ accepted: 1, rejected: [] });
    expect(await identitiesOf("crm", "att-traits")).toEqual(["crm:att-traits", `device:${device}`]);
    expect(await identitiesOf("email", target)).toEqual([`email:${target}`]);
    const ctx = await context(key, device, token);
    expect(ctx.attributes).toEqual({});
    expect(JSON.stringify(ctx)).not.toContain("Vera");
  });

  it("context.traits.email and traits.phone are not identities either, and a victim with a crm id keeps their e-mail", async () => {
    const { key, siteSecret } = await publicKey();
    const v = await victim("ctx");
    const device = "attacker-device-ctx-000001";
    const token = await identityToken(siteSecret, "crm:att-ctx");
    const res = await send("/v1/batch", {
      writeKey: key,
      batch: [
        {
          type: "identify",
          userId: "att-ctx",
          anonymousId: device,
          context: { traits: { email: v.email }, tessera: { identityToken: token } },
        },
        {
          type: "track",
          event: "Viewed",
          userId: "att-ctx",
          anonymousId: device,
          context: {
            traits: { email: v.email, phone: "+31612345678" },
            tessera: { identityToken: token },
          },
        },
      ],
    });
    expect(res.json).toMatchObject({ accepted: 2, rejected: [] });
    expect(await identitiesOf("crm", v.crm)).toEqual([`crm:${v.crm}`, `email:${v.email}`]);
    expect(await identitiesOf("crm", "att-ctx")).toEqual(["crm:att-ctx", `device:${device}`]);
    expect((await context(key, device, token)).attributes).toEqual({});
  });

  it("a trait e-mail without a token is refused, not quietly stored", async () => {
    const { key } = await publicKey();
    const target = await emailOnlyVictim("notoken");
    const res = await send("/v1/page", {
      writeKey: key,
      type: "page",
      anonymousId: "attacker-device-nt-00001",
      context: { traits: { email: target } },
    });
    expect(res.json.rejected[0].error.code).toBe("identity_not_verified");
    expect(await identitiesOf("email", target)).toEqual([`email:${target}`]);
  });

  it("alias with previousId = the victim's id is refused; the victim's profile gains no device and no page views", async () => {
    const { key, siteSecret } = await publicKey();
    const v = await victim("alias1");
    const device = "attacker-device-alias-0001";
    const token = await identityToken(siteSecret, "crm:att-alias1");
    const before = await profileIdOf("crm", v.crm);
    const res = await send("/v1/alias", {
      writeKey: key,
      type: "alias",
      userId: "att-alias1",
      previousId: v.crm,
      anonymousId: device,
      context: { tessera: { identityToken: token } },
    });
    expect(res.json.rejected[0].error.code).toBe("identity_not_verified");
    await send("/v1/page", { writeKey: key, type: "page", anonymousId: device, name: "Home" });
    expect(await identitiesOf("crm", v.crm)).toEqual([`crm:${v.crm}`, `email:${v.email}`]);
    expect(await profileIdOf("crm", v.crm)).toBe(before);
    expect(
      (await call("GET", `/v1/profiles/by-identity/crm/${v.crm}?include=events`)).json.events,
    ).toEqual([]);
  });

  it("alias the other way (userId = the victim, previousId = the attacker) is refused", async () => {
    const { key, siteSecret } = await publicKey();
    const v = await victim("alias2");
    const device = "attacker-device-alias-0002";
    const token = await identityToken(siteSecret, "crm:att-alias2");
    const res = await send("/v1/alias", {
      writeKey: key,
      type: "alias",
      userId: v.crm,
      previousId: "att-alias2",
      anonymousId: device,
      context: { tessera: { identityToken: token } },
    });
    expect(res.json.rejected[0].error.code).toBe("identity_not_verified");
    expect(await identitiesOf("crm", v.crm)).toEqual([`crm:${v.crm}`, `email:${v.email}`]);
  });

  it("an alias of the visitor's own device to the token's person still links them", async () => {
    const { key, siteSecret } = await publicKey();
    const device = "own-device-alias-00000001";
    const token = await identityToken(siteSecret, "crm:own-alias");
    const res = await send("/v1/alias", {
      writeKey: key,
      type: "alias",
      userId: "own-alias",
      previousId: device,
      anonymousId: device,
      context: { tessera: { identityToken: token } },
    });
    expect(res.json).toMatchObject({ accepted: 1, rejected: [] });
    expect(await identitiesOf("crm", "own-alias")).toEqual(["crm:own-alias", `device:${device}`]);
  });

  it("on a key whose userId is an e-mail, alias cannot merge two people's profiles", async () => {
    const { key, siteSecret } = await publicKey({ userIdNamespace: "email" });
    const target = await emailOnlyVictim("emailkey");
    await postRecords([
      {
        dataset: "default",
        identities: [{ namespace: "email", id: "att-emailkey@example.com" }],
        attributes: { firstName: "Mallory" },
      },
    ]);
    const device = "attacker-device-email-0001";
    const token = await identityToken(siteSecret, "email:att-emailkey@example.com");
    const alias = await send("/v1/alias", {
      writeKey: key,
      type: "alias",
      userId: "att-emailkey@example.com",
      previousId: target,
      anonymousId: device,
      context: { tessera: { identityToken: token } },
    });
    expect(alias.json.rejected[0].error.code).toBe("identity_not_verified");
    // A differently written form of the attacker's own address is still the attacker.
    const own = await send("/v1/identify", {
      writeKey: key,
      type: "identify",
      userId: "Att-EmailKey@Example.com ",
      anonymousId: device,
      context: { tessera: { identityToken: token } },
    });
    expect(own.json).toMatchObject({ accepted: 1, rejected: [] });
    expect(await profileIdOf("email", target)).not.toBe(
      await profileIdOf("email", "att-emailkey@example.com"),
    );
    expect(await identitiesOf("email", target)).toEqual([`email:${target}`]);
    expect((await context(key, device, token)).attributes).toEqual({ firstName: "Mallory" });
  });
});

describe("browser rate limits count messages, for every device in a call", () => {
  it("a batch led by a fresh device cannot carry 61 page views for another one", async () => {
    const { key } = await publicKey();
    const target = "rate-target-device-000001";
    const batch = [
      { type: "page", anonymousId: "rate-fresh-device-0000001", name: "Lead" },
      ...Array.from({ length: 61 }, (_, i) => ({
        type: "page",
        anonymousId: target,
        name: `P${i}`,
        messageId: `rate-${i}`,
      })),
    ];
    await clearOfMinuteEdge();
    const res = await send("/v1/batch", { writeKey: key, batch });
    expect(res).toHaveStatus(429);
    expect(res.json.error.code).toBe("rate_limited");
  });

  it("/v1/collect counts events, not calls: two calls of 50 events from one device exceed 60 a minute", async () => {
    const { key } = await publicKey();
    const device = "rate-collect-device-00001";
    const post = () =>
      call("POST", `/v1/collect?device=${device}`, {
        key,
        body: { events: Array.from({ length: 50 }, () => ({ type: "click" })) },
        headers: { origin: ORIGIN },
      });
    await clearOfMinuteEdge();
    expect(await post()).toHaveStatus(200);
    const second = await post();
    expect(second).toHaveStatus(429);
    expect(second.headers.get("retry-after")).toBe("60");
  });
});

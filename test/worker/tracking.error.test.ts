/**
 * The tracking API (SPEC §2) at the HTTP level: auth forms, content types, gzip, limits,
 * mapping details and the browser rules. The real SDKs are driven in
 * test/browser/tracking-sdk.test.ts.
 */
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createKey, createPublicKey, expectErrorShape, identityToken } from "../helpers";

const ORIGIN = "https://shop.example";

async function send(
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = {},
) {
  const response = await exports.default.fetch(
    new Request(`https://tessera.test${path}`, { method: "POST", headers, body }),
  );
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const basic = (key: string) => `Basic ${btoa(`${key}:`)}`;
const gzip = async (text: string) =>
  new Uint8Array(
    await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
const profile = (ns: string, id: string, include = "events") =>
  call("GET", `/v1/profiles/by-identity/${ns}/${encodeURIComponent(id)}?include=${include}`);

describe("tracking API: auth and bodies", () => {
  it("accepts Basic (key as user name), Bearer and writeKey in the body; JSON whatever the content type", async () => {
    const key = await createKey(["ingest"]);
    const message = (n: number) => ({
      type: "track",
      messageId: `auth-${n}`,
      userId: `auth-user-${n}`,
      event: "Order Completed",
      properties: { n },
    });
    expect(
      (
        await send("/v1/batch", JSON.stringify({ batch: [message(1)] }), {
          authorization: basic(key),
          "content-type": "application/json",
        })
      ).json,
    ).toMatchObject({ success: true, accepted: 1 });
    expect(
      (
        await send("/v1/track", JSON.stringify(message(2)), {
          authorization: `Bearer ${key}`,
          "content-type": "text/plain",
        })
      ).json,
    ).toMatchObject({ success: true, accepted: 1 });
    expect(
      (
        await send("/v1/track", JSON.stringify({ ...message(3), writeKey: key }), {
          "content-type": "application/x-www-form-urlencoded",
        })
      ).json,
    ).toMatchObject({ success: true, accepted: 1 });
    const gz = await gzip(JSON.stringify({ batch: [message(4)] }));
    expect(
      (
        await send("/v1/batch", gz, {
          authorization: basic(key),
          "content-type": "application/x-www-form-urlencoded",
          "content-encoding": "gzip",
        })
      ).json,
    ).toMatchObject({ success: true, accepted: 1 });
    const stored = await profile("crm", "auth-user-4");
    expect(stored.json.events[0]).toMatchObject({
      id: "auth-4",
      type: "Order Completed",
      data: { properties: { n: 4 } },
    });
  });

  it("wrong key 401, wrong scope 403, malformed 400 — all in the error shape", async () => {
    const body = JSON.stringify({ batch: [{ type: "track", userId: "x1", event: "E" }] });
    const wrong = await send("/v1/batch", body, { authorization: basic("sk_wrong") });
    expect(wrong).toHaveStatus(401);
    expectErrorShape(wrong.json, "unauthorized");
    const none = await send("/v1/batch", body);
    expect(none).toHaveStatus(401);
    const reader = await createKey(["profiles:read"]);
    const scope = await send("/v1/batch", body, { authorization: basic(reader) });
    expect(scope).toHaveStatus(403);
    expectErrorShape(scope.json, "forbidden");
    const ingest = await createKey(["ingest"]);
    const malformed = await send("/v1/batch", "{not json", { authorization: basic(ingest) });
    expect(malformed).toHaveStatus(400);
    expectErrorShape(malformed.json, "invalid_json");
    const notArray = await send("/v1/batch", JSON.stringify({ batch: {} }), {
      authorization: basic(ingest),
    });
    expect(notArray).toHaveStatus(400);
    const big = await send(
      "/v1/batch",
      JSON.stringify({
        batch: [
          { type: "track", userId: "b", event: "E", properties: { pad: "x".repeat(600 * 1024) } },
        ],
      }),
      { authorization: basic(ingest) },
    );
    expect(big).toHaveStatus(413);
    expectErrorShape(big.json, "payload_too_large");
  });
});

describe("tracking API: mapping", () => {
  it("identify → record of traits with email/phone identities; group → groups.<id>; alias links; resent messageIds are duplicates", async () => {
    const key = await createKey(["ingest"]);
    const batch = [
      {
        type: "identify",
        messageId: "map-1",
        userId: "map-u1",
        anonymousId: "0b6c1f4e-8f1a-4f43-9d0b-2a3c4d5e6f70",
        traits: { email: "Map.User@Example.com", firstName: "Map", plan: "pro" },
      },
      {
        type: "group",
        messageId: "map-2",
        userId: "map-u1",
        groupId: "acme",
        traits: { name: "Acme", seats: 10 },
      },
      {
        type: "page",
        messageId: "map-3",
        userId: "map-u1",
        name: "Home",
        properties: { path: "/" },
        context: { page: { url: "https://shop.example/" }, userAgent: "UA", ip: "10.0.0.1" },
      },
      { type: "screen", messageId: "map-4", userId: "map-u1", name: "Cart" },
      // analytics.js aliases the visitor's anonymous id to the user id.
      {
        type: "alias",
        messageId: "map-5",
        userId: "map-u1",
        anonymousId: "5d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a",
        previousId: "5d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a",
      },
    ];
    const first = await send("/v1/batch", JSON.stringify({ batch }), { authorization: basic(key) });
    expect(first.json).toEqual({ success: true, accepted: 5, duplicates: 0, rejected: [] });
    const again = await send("/v1/batch", JSON.stringify({ batch }), { authorization: basic(key) });
    expect(again.json).toEqual({ success: true, accepted: 0, duplicates: 5, rejected: [] });

    const p = await profile("crm", "map-u1", "events,graph");
    expect(p.json.attributes).toEqual({
      email: "Map.User@Example.com",
      firstName: "Map",
      plan: "pro",
      groups: { acme: { name: "Acme", seats: 10 } },
    });
    expect(p.json.identities.map((i: any) => `${i.namespace}:${i.id}`).sort()).toEqual([
      "crm:map-u1",
      "device:0b6c1f4e-8f1a-4f43-9d0b-2a3c4d5e6f70",
      "device:5d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a",
      "email:map.user@example.com",
    ]);
    const byType = Object.fromEntries(p.json.events.map((e: any) => [e.type, e]));
    expect(Object.keys(byType).sort()).toEqual([
      "alias",
      "group",
      "identify",
      "page.view",
      "screen.view",
    ]);
    expect(byType["page.view"].data).toEqual({
      name: "Home",
      properties: { path: "/" },
      context: { page: { url: "https://shop.example/" }, userAgent: "UA" },
    });
  });

  it("corrects device clock skew from sentAt; uses the key's userIdNamespace and dataset", async () => {
    await call("PUT", "/v1/datasets/app-tracking", { body: { kind: "any" } });
    const res = await call("POST", "/v1/keys", {
      body: {
        name: "app",
        kind: "secret",
        scopes: ["ingest"],
        tracking: { userIdNamespace: "loyalty", dataset: "app-tracking" },
      },
    });
    expect(res.json.tracking).toEqual({ userIdNamespace: "loyalty", dataset: "app-tracking" });
    const before = Date.now();
    // The device clock runs 1 hour fast: sent "now + 1 h", event 10 s before that.
    const skew = 3600_000;
    const sentAt = new Date(before + skew).toISOString();
    const timestamp = new Date(before + skew - 10_000).toISOString();
    const out = await send(
      "/v1/batch",
      JSON.stringify({
        sentAt,
        batch: [
          { type: "track", messageId: "skew-1", userId: "L-skew", event: "Tapped", timestamp },
        ],
      }),
      { authorization: basic(res.json.key) },
    );
    expect(out.json).toMatchObject({ accepted: 1, rejected: [] });
    const event = (await profile("loyalty", "L-skew")).json.events[0];
    expect(event.dataset).toBe("app-tracking");
    const at = Date.parse(event.timestamp);
    expect(at).toBeGreaterThanOrEqual(before - 10_000 - 50);
    expect(at).toBeLessThanOrEqual(Date.now() - 10_000 + 50);
  });

  it("rejects per message: bad anonymousId, unknown type, missing ids, too large, reserved keys — the good ones are kept", async () => {
    const key = await createKey(["ingest"]);
    const out = await send(
      "/v1/batch",
      JSON.stringify({
        batch: [
          { type: "track", anonymousId: "short", event: "E" },
          { type: "launch", userId: "x" },
          { type: "track", event: "E" },
          { type: "track", userId: "big", event: "E", properties: { pad: "x".repeat(40 * 1024) } },
          { type: "group", userId: "g", groupId: "__proto__", traits: { a: 1 } },
          { type: "track", userId: "kept", event: "$pageview" },
        ],
      }),
      { authorization: basic(key) },
    );
    expect(out.json.accepted).toBe(1);
    expect(out.json.rejected.map((r: any) => [r.index, r.error.code])).toEqual([
      [0, "invalid_identity"],
      [1, "invalid_request"],
      [2, "invalid_request"],
      [3, "item_too_large"],
      [4, "invalid_attribute"],
    ]);
  });
});

describe("tracking API: browsers (public key)", () => {
  it("page/track land for the device; identity claims need a valid identity token; settings document; origins checked", async () => {
    const { key, siteSecret } = await createPublicKey([ORIGIN]);
    const device = "9f0c3d2e-1b4a-4c5d-8e6f-7a8b9c0d1e2f";
    const browser = { "content-type": "text/plain", origin: ORIGIN };
    const settings = await exports.default.fetch(
      new Request(`https://tessera.test/v1/projects/${key}/settings`, {
        headers: { origin: ORIGIN },
      }),
    );
    expect(settings).toHaveStatus(200);
    expect(((await settings.json()) as any).integrations["Segment.io"]).toMatchObject({
      apiKey: key,
      apiHost: "tessera.test/v1",
      protocol: "https",
    });

    const page = await send(
      "/v1/p",
      JSON.stringify({
        writeKey: key,
        type: "page",
        anonymousId: device,
        messageId: "b-1",
        name: "Home",
      }),
      browser,
    );
    expect(page.json).toMatchObject({ success: true, accepted: 1 });
    const foreign = await send(
      "/v1/p",
      JSON.stringify({ writeKey: key, type: "page", anonymousId: device }),
      { ...browser, origin: "https://evil.example" },
    );
    expect(foreign).toHaveStatus(403);
    expectErrorShape(foreign.json, "origin_not_allowed");

    const unverified = await send(
      "/v1/i",
      JSON.stringify({
        writeKey: key,
        type: "identify",
        anonymousId: device,
        userId: "u1",
        traits: { email: "u1@example.com" },
      }),
      browser,
    );
    expect(unverified.json.rejected[0].error.code).toBe("identity_not_verified");
    const trackAsUser = await send(
      "/v1/t",
      JSON.stringify({
        writeKey: key,
        type: "track",
        anonymousId: device,
        userId: "u1",
        event: "E",
      }),
      browser,
    );
    expect(trackAsUser.json.rejected[0].error.code).toBe("identity_not_verified");
    expect(await profile("crm", "u1")).toHaveStatus(404);

    const forOther = await identityToken(siteSecret, "crm:someone-else");
    const wrongToken = await send(
      "/v1/i",
      JSON.stringify({
        writeKey: key,
        type: "identify",
        anonymousId: device,
        userId: "u1",
        context: { tessera: { identityToken: forOther } },
      }),
      browser,
    );
    expect(wrongToken.json.rejected[0].error.code).toBe("identity_not_verified");

    const token = await identityToken(siteSecret, "crm:u1");
    const verified = await send(
      "/v1/i",
      JSON.stringify({
        writeKey: key,
        type: "identify",
        anonymousId: device,
        userId: "u1",
        traits: { plan: "gold" },
        context: { tessera: { identityToken: token } },
      }),
      browser,
    );
    expect(verified.json).toMatchObject({ accepted: 1, rejected: [] });
    const linked = await profile("crm", "u1");
    expect(linked.json.identities.map((i: any) => `${i.namespace}:${i.id}`).sort()).toEqual([
      "crm:u1",
      `device:${device}`,
    ]);
    expect(linked.json.attributes).toEqual({ plan: "gold" });

    // A secret key is never accepted in a URL (it would end up in access logs), not even server to server.
    const secret = await createKey(["ingest"]);
    const viaPath = await exports.default.fetch(
      new Request(`https://tessera.test/v1/projects/${secret}/settings`, {
        headers: { origin: ORIGIN },
      }),
    );
    expect(viaPath).toHaveStatus(401);
    expect(
      await exports.default.fetch(
        new Request(
          `https://tessera.test/v1/projects/${encodeURIComponent(env.TESSERA_ADMIN_KEY)}/settings`,
        ),
      ),
    ).toHaveStatus(401);
    const noKey = await exports.default.fetch(
      new Request("https://tessera.test/v1/projects/pk_nope/settings", {
        headers: { origin: ORIGIN },
      }),
    );
    expect(noKey).toHaveStatus(401);
  });
});

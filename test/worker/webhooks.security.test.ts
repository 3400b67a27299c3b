/**
 * Webhook destinations at the API level, without TESSERA_WEBHOOK_ALLOW_INSECURE: the SSRF
 * guard, the signing secret shown once and rotated, and the deliveries API. Deliveries to
 * a real receiver are tested in test/browser/webhooks.test.ts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call, createKey, expectErrorShape } from "../helpers";

const webhook = (url: string, extra: Record<string, unknown> = {}) => ({
  type: "webhook",
  url,
  events: ["segment.entered"],
  ...extra,
});

describe("webhook destinations: SSRF guard", () => {
  it.each([
    "http://example.com/hook",
    "http://127.0.0.1:8080/hook",
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://172.20.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://localhost/hook",
    "https://printer.local/hook",
    "https://intranet/hook",
    "https://user:pass@example.com/hook",
    "https://localhost./hook",
    "https://printer.local./hook",
    "https://0x7f.1/hook",
    "https://2130706433/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
    "file:///etc/passwd",
    "ftp://example.com/hook",
  ])("refuses %s", async (url) => {
    const res = await call("PUT", "/v1/destinations/ssrf", { body: webhook(url) });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0].path).toBe("url");
  });
});

describe("webhook destinations: what the guard allows", () => {
  it.each([
    "https://hooks.example.com/tessera",
    "https://[2606:4700:4700::1111]/hook",
    "https://hooks.example.com./trailing-dot-public",
  ])("allows %s", async (url) => {
    expect(await call("PUT", "/v1/destinations/allowed", { body: webhook(url) })).toHaveStatus(200);
  });
});

describe("export endpoints pass the same guard", () => {
  it.each([
    "file:///etc/passwd",
    "http://169.254.169.254/latest",
    "https://169.254.169.254/",
    "https://127.0.0.1:9000",
    "https://minio.local./",
    "http://s3.example.com",
  ])("refuses the s3 endpoint %s", async (endpoint) => {
    const res = await call("PUT", "/v1/destinations/lake-ssrf", {
      body: {
        type: "s3",
        bucket: "lake",
        endpoint,
        region: "auto",
        schedule: "manual",
        credentials: { accessKeyId: "K", secretAccessKey: "S" },
      },
    });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0].path).toBe("endpoint");
  });
});

describe("webhook destinations: secret and deliveries API", () => {
  it("shows the signing secret once, rotates it, and lists deliveries by status", async () => {
    const created = await call("PUT", "/v1/destinations/hooks", {
      body: webhook("https://hooks.example.invalid/tessera"),
    });
    expect(created).toHaveStatus(200);
    expect(created.json.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const again = await call("PUT", "/v1/destinations/hooks", {
      body: webhook("https://hooks.example.invalid/tessera", {
        events: ["segment.entered", "profile.erased"],
      }),
    });
    expect(again.json.signingSecret).toBeUndefined();
    expect(JSON.stringify((await call("GET", "/v1/destinations/hooks")).json)).not.toContain(
      "whsec_",
    );
    const rotated = await call("POST", "/v1/destinations/hooks/secret");
    expect(rotated.json.signingSecret).toMatch(/^whsec_/);
    expect(rotated.json.signingSecret).not.toBe(created.json.signingSecret);

    // An erase announces itself in the same batch (the outbox), without personal data.
    await call("POST", "/v1/events", {
      body: { type: "x", identities: [{ namespace: "crm", id: "hook-erase" }] },
    });
    expect(await call("DELETE", "/v1/profiles/by-identity/crm/hook-erase")).toHaveStatus(200);
    const row = await env.DB.prepare(
      "SELECT type, payload, status FROM webhook_deliveries WHERE destination = 'hooks'",
    ).first<{ type: string; payload: string; status: string }>();
    expect(row!.type).toBe("profile.erased");
    expect(row!.payload).not.toContain("hook-erase");
    const list = await call("GET", "/v1/destinations/hooks/deliveries?limit=10");
    expect(list).toHaveStatus(200);
    expect(list.json.items[0]).toMatchObject({
      type: "profile.erased",
      attempts: expect.any(Number),
    });
    expect(await call("GET", "/v1/destinations/hooks/deliveries?status=bogus")).toHaveStatus(400);
    expect(await call("POST", "/v1/destinations/hooks/deliveries/msg_nope/retry")).toHaveStatus(
      404,
    );
  });

  it("redrive: dead deliveries made pending in one call, oldest first; a bad status, a missing destination and a non-admin key refused", async () => {
    // The erase's delivery is being tried (its receiver does not resolve): let that attempt
    // finish first, or it would write its own status over the dead one set below.
    await vi.waitFor(
      async () => {
        const untried = await env.DB.prepare(
          "SELECT count(*) AS n FROM webhook_deliveries WHERE destination = 'hooks' AND attempts = 0",
        ).first<{ n: number }>();
        expect(untried!.n).toBe(0);
      },
      { timeout: 15_000, interval: 100 },
    );
    await env.DB.prepare(
      "UPDATE webhook_deliveries SET status = 'dead' WHERE destination = 'hooks'",
    ).run();
    const dead = (await env.DB.prepare(
      "SELECT count(*) AS n FROM webhook_deliveries WHERE destination = 'hooks' AND status = 'dead'",
    ).first<{ n: number }>())!.n;
    expect(dead).toBeGreaterThan(0);
    const redrive = await call("POST", "/v1/destinations/hooks/deliveries/redrive");
    expect(redrive).toHaveStatus(202);
    expect(redrive.json).toEqual({ requeued: dead, more: false });
    expect(
      (await env.DB.prepare(
        "SELECT count(*) AS n FROM webhook_deliveries WHERE destination = 'hooks' AND status = 'dead'",
      ).first<{ n: number }>())!.n,
    ).toBe(0);
    expect(
      (await call("POST", "/v1/destinations/hooks/deliveries/redrive?status=failed")).json,
    ).toMatchObject({ more: false });
    expect(
      await call("POST", "/v1/destinations/hooks/deliveries/redrive?status=pending"),
    ).toHaveStatus(400);
    expect(await call("POST", "/v1/destinations/nope/deliveries/redrive")).toHaveStatus(404);
    expect(
      await call("POST", "/v1/destinations/hooks/deliveries/redrive", {
        key: await createKey(["ingest", "profiles:read"]),
      }),
    ).toHaveStatus(403);
  });

  it("a test delivery: queued, listed as destination.test with no profile; only for webhook destinations that exist", async () => {
    const sent = await call("POST", "/v1/destinations/hooks/test");
    expect(sent).toHaveStatus(202);
    expect(sent.json).toEqual({ id: expect.stringMatching(/^msg_/), status: "pending" });
    const listed = (
      await call("GET", "/v1/destinations/hooks/deliveries?limit=50")
    ).json.items.find((d: any) => d.id === sent.json.id);
    expect(listed).toMatchObject({ type: "destination.test", profileId: "", sequence: 0 });
    const row = await env.DB.prepare("SELECT payload FROM webhook_deliveries WHERE id = ?1")
      .bind(sent.json.id)
      .first<{ payload: string }>();
    expect(JSON.parse(row!.payload)).toMatchObject({
      type: "destination.test",
      data: { destination: "hooks", test: true },
    });
    expect(await call("POST", "/v1/destinations/nope/test")).toHaveStatus(404);
    expect(
      await call("PUT", "/v1/destinations/files-only", {
        body: { type: "r2", prefix: "f/", schedule: "manual" },
      }),
    ).toHaveStatus(200);
    const files = await call("POST", "/v1/destinations/files-only/test");
    expect(files).toHaveStatus(409);
    expect(files.json.error.message).toContain("/runs");
  });
});

describe("webhook destinations: secrets never come back", () => {
  it("a destination switched to r2 and back gets a new secret, not the rotated-away one", async () => {
    const first = (
      await call("PUT", "/v1/destinations/flip", {
        body: webhook("https://hooks.example.com/flip"),
      })
    ).json.signingSecret;
    const rotated = (await call("POST", "/v1/destinations/flip/secret")).json.signingSecret;
    expect(
      await call("PUT", "/v1/destinations/flip", {
        body: { type: "r2", prefix: "flip/", schedule: "manual" },
      }),
    ).toHaveStatus(200);
    const again = (
      await call("PUT", "/v1/destinations/flip", {
        body: webhook("https://hooks.example.com/flip"),
      })
    ).json.signingSecret;
    expect(again).toMatch(/^whsec_/);
    expect(new Set([first, rotated, again]).size).toBe(3);
    // Deleted and created again under the same name: a new secret as well.
    expect(await call("DELETE", "/v1/destinations/flip")).toHaveStatus(200);
    const recreated = (
      await call("PUT", "/v1/destinations/flip", {
        body: webhook("https://hooks.example.com/flip"),
      })
    ).json.signingSecret;
    expect(new Set([first, rotated, again, recreated]).size).toBe(4);
  });
});

describe("crash recovery: the sweep is fair across destinations", () => {
  it("one destination's backlog of 300 does not stand in front of another's 5", async () => {
    const { dueDeliveriesFair } = await import("../../worker/db/queries/webhooks");
    const now = Date.now();
    const insert = env.DB.prepare(
      `INSERT INTO webhook_deliveries (id, destination, type, profile_id, sequence, payload, status, attempts, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, 'segment.entered', 'p', ?3, '{}', 'pending', 0, ?4, ?4, ?4)`,
    );
    await env.DB.batch([
      ...Array.from({ length: 300 }, (_, i) =>
        insert.bind(`fair-big-${i}`, "fair-big", i, now - 100_000 + i),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        insert.bind(`fair-small-${i}`, "fair-small", i, now - 1_000 + i),
      ),
    ]);
    const first = await dueDeliveriesFair(env.DB, now, [], 20);
    expect(first.filter((r) => r.destination === "fair-small")).toHaveLength(5);
    const paused = await dueDeliveriesFair(env.DB, now, ["fair-big"], 1000);
    expect(paused.every((r) => r.destination !== "fair-big")).toBe(true);
  });
});

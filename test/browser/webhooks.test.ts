/**
 * Webhook destinations end to end (SPEC §5): a real HTTP receiver on 127.0.0.1 verifies
 * every delivery with the `standardwebhooks` package (not Tessera's code). The local
 * Worker runs with TESSERA_WEBHOOK_ALLOW_INSECURE (http, loopback) and retries scaled
 * down 10,000× (the 24 h window becomes ~9 s).
 */
import http from "node:http";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCall as api } from "./api";

interface Received {
  path: string;
  payload: any;
  verified: boolean;
}

/** The receiver: per path, answer 200 or 503; verify each body with the path's secret. */
const received: Received[] = [];
const secrets = new Map<string, string>();
const failing = new Set<string>();
const timingOut = new Set<string>();
const redirects = new Map<string, { status: number; to: string }>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (failing.has(path)) return res.writeHead(503).end("down");
      if (timingOut.has(path)) return res.writeHead(408).end("request timeout");
      const redirect = redirects.get(path);
      if (redirect)
        return res.writeHead(redirect.status, { location: `${base}${redirect.to}` }).end();
      const body = Buffer.concat(chunks).toString();
      let verified = false;
      let payload: any;
      try {
        payload = new Webhook(secrets.get(path)!).verify(
          body,
          req.headers as Record<string, string>,
        );
        verified = true;
      } catch {
        payload = JSON.parse(body);
      }
      received.push({ path, payload, verified });
      res.writeHead(verified ? 200 : 400).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise((r) => server?.close(r)));

async function destination(name: string, path: string, extra: Record<string, unknown> = {}) {
  const res = await api("PUT", `/v1/destinations/${name}`, {
    type: "webhook",
    url: `${base}${path}`,
    events: ["segment.entered", "segment.exited", "profile.merged", "profile.erased"],
    ...extra,
  });
  expect(res).toHaveStatus(200);
  expect(res.json.signingSecret).toMatch(/^whsec_/);
  secrets.set(path, res.json.signingSecret);
}

const at = (path: string) => received.filter((r) => r.path === path);
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

describe("webhook destinations", () => {
  it("segment entered/exited, a merge and an erase reach the receiver, signed; nothing personal after an erase", {
    timeout: 60_000,
  }, async () => {
    expect(
      await api("PUT", "/v1/segments/wh-gold", {
        name: "gold",
        rule: { attr: "tier", op: "eq", value: "gold" },
      }),
    ).toHaveStatus(200);
    await destination("wh-main", "/main", {
      segments: ["wh-gold"],
      attributes: ["tier", "firstName"],
    });

    const first = await api("POST", "/v1/records", {
      dataset: "default",
      identities: [{ namespace: "crm", id: "wh-1" }],
      attributes: { tier: "gold", firstName: "Ann", secret: "x" },
    });
    const profileId = first.json.profiles[0];
    await poll(() => at("/main").filter((r) => r.payload.type === "segment.entered").length).toBe(
      1,
    );
    const entered = at("/main").find((r) => r.payload.type === "segment.entered")!;
    expect(entered.verified).toBe(true);
    expect(entered.payload.data).toMatchObject({
      profileId,
      primaryIdentity: { namespace: "crm", id: "wh-1" },
      segment: { id: "wh-gold" },
      attributes: { tier: "gold", firstName: "Ann" },
    });
    expect(entered.payload.data.attributes.secret).toBeUndefined();

    await api("POST", "/v1/records", {
      dataset: "default",
      identities: [{ namespace: "crm", id: "wh-1" }],
      attributes: { tier: "silver" },
    });
    await poll(() => at("/main").filter((r) => r.payload.type === "segment.exited").length).toBe(1);
    const exited = at("/main").find((r) => r.payload.type === "segment.exited")!;
    expect(exited.payload.data.sequence).toBeGreaterThan(entered.payload.data.sequence);

    await api("POST", "/v1/events", {
      type: "visit",
      identities: [{ namespace: "email", id: "wh-1@example.com" }],
    });
    await api("POST", "/v1/events", {
      type: "login",
      identities: [
        { namespace: "crm", id: "wh-1" },
        { namespace: "email", id: "wh-1@example.com" },
      ],
    });
    await poll(() => at("/main").filter((r) => r.payload.type === "profile.merged").length).toBe(1);

    expect(await api("DELETE", "/v1/profiles/by-identity/crm/wh-1")).toHaveStatus(200);
    await poll(() => at("/main").filter((r) => r.payload.type === "profile.erased").length).toBe(1);
    const erased = at("/main").find((r) => r.payload.type === "profile.erased")!;
    expect(Object.keys(erased.payload.data).sort()).toEqual(["profileId", "sequence"]);
    expect(JSON.stringify(erased.payload)).not.toContain("wh-1");
    expect(at("/main").every((r) => r.verified)).toBe(true);
    // Exactly one delivery per change.
    expect(at("/main").map((r) => r.payload.type)).toEqual([
      "segment.entered",
      "segment.exited",
      "profile.merged",
      "profile.erased",
    ]);
  });

  it("a consent revocation: segment.exited with reason consent, signed, and nothing after for that profile", {
    timeout: 60_000,
  }, async () => {
    expect(
      await api("PUT", "/v1/segments/wh-consent-gold", {
        name: "gold",
        rule: { attr: "tier", op: "eq", value: "gold" },
      }),
    ).toHaveStatus(200);
    await destination("wh-consent", "/consent", {
      segments: ["wh-consent-gold"],
      purposes: ["marketing"],
    });
    await destination("wh-consent-all", "/consent-all", { segments: ["wh-consent-gold"] });
    const who = [{ namespace: "crm", id: "wh-consent-1" }];
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: who,
      attributes: { tier: "gold" },
    });
    await poll(() => at("/consent").length).toBe(1);
    expect(
      await api("POST", "/v1/consent", {
        identities: who,
        purposes: { marketing: "denied" },
        source: "unsubscribe-link",
      }),
    ).toHaveStatus(200);
    await poll(() => at("/consent").length).toBe(2);
    const exit = at("/consent")[1]!;
    expect(exit.verified).toBe(true);
    expect(exit.payload).toMatchObject({
      type: "segment.exited",
      data: { segment: { id: "wh-consent-gold" }, reason: "consent" },
    });
    // Later segment changes of that profile send nothing there; a destination without purposes hears of all of them.
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: who,
      attributes: { tier: "silver" },
    });
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: who,
      attributes: { tier: "gold" },
    });
    await poll(() => at("/consent-all").map((r) => r.payload.type)).toEqual([
      "segment.entered",
      "segment.exited",
      "segment.entered",
    ]);
    expect(at("/consent").map((r) => r.payload.type)).toEqual([
      "segment.entered",
      "segment.exited",
    ]);
    expect(at("/consent-all").every((r) => r.verified && r.payload.data.reason === undefined)).toBe(
      true,
    );
  });

  it("redirects are never followed: a 307 or 302 is a failure naming its Location, and the target receives nothing", {
    timeout: 60_000,
  }, async () => {
    redirects.set("/moved-307", { status: 307, to: "/internal-only" });
    redirects.set("/moved-302", { status: 302, to: "/internal-only" });
    await destination("wh-307", "/moved-307", { segments: ["wh-gold"] });
    await destination("wh-302", "/moved-302", { segments: ["wh-gold"] });
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: [{ namespace: "crm", id: "wh-redirect-1" }],
      attributes: { tier: "gold" },
    });
    for (const [name, status] of [
      ["wh-307", 307],
      ["wh-302", 302],
    ] as const) {
      await poll(
        async () =>
          (await api("GET", `/v1/destinations/${name}/deliveries?status=dead`)).json.items.length,
      ).toBe(1);
      const [dead] = (await api("GET", `/v1/destinations/${name}/deliveries?status=dead`)).json
        .items;
      expect(dead.lastError).toBe(
        `HTTP ${status} redirect to ${base}/internal-only — redirects are not followed`,
      );
    }
    expect(at("/internal-only")).toEqual([]);
  });

  it("a receiver that is down for a while gets every delivery once it is back", {
    timeout: 60_000,
  }, async () => {
    await destination("wh-flaky", "/flaky", { segments: ["wh-gold"] });
    failing.add("/flaky");
    for (let i = 0; i < 5; i++)
      await api("POST", "/v1/records", {
        dataset: "default",
        identities: [{ namespace: "crm", id: `wh-flaky-${i}` }],
        attributes: { tier: "gold" },
      });
    await poll(
      async () =>
        (await api("GET", "/v1/destinations/wh-flaky/deliveries?status=failed")).json.items.length,
    ).toBe(5);
    failing.delete("/flaky");
    await poll(() => new Set(at("/flaky").map((r) => r.payload.data.profileId)).size).toBe(5);
    const list = (await api("GET", "/v1/destinations/wh-flaky/deliveries")).json.items;
    expect(list.map((d: any) => d.status)).toEqual(Array(5).fill("delivered"));
    expect(list.every((d: any) => d.attempts >= 2 && d.lastError === "HTTP 503")).toBe(true);
  });

  it("a 408 from the receiver is retried like a 503, not dead-lettered at once", {
    timeout: 60_000,
  }, async () => {
    await destination("wh-408", "/slow-reader", {
      events: ["segment.entered"],
      segments: ["wh-gold"],
    });
    timingOut.add("/slow-reader");
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: [{ namespace: "crm", id: "wh-408-1" }],
      attributes: { tier: "gold" },
    });
    await poll(
      async () =>
        (await api("GET", "/v1/destinations/wh-408/deliveries")).json.items[0]?.attempts ?? 0,
    ).toBeGreaterThanOrEqual(2);
    expect((await api("GET", "/v1/destinations/wh-408/deliveries?status=dead")).json.items).toEqual(
      [],
    );
    timingOut.delete("/slow-reader");
    await poll(() => at("/slow-reader").length).toBe(1);
    expect((await api("GET", "/v1/destinations/wh-408/deliveries")).json.items[0]).toMatchObject({
      status: "delivered",
      lastError: "HTTP 408",
    });
  });

  it("batchSize: several events per POST as a JSON array, signed the same way", {
    timeout: 60_000,
  }, async () => {
    await destination("wh-batch", "/batch", {
      events: ["segment.entered"],
      segments: ["wh-gold"],
      batchSize: 10,
    });
    await api("POST", "/v1/records", {
      records: Array.from({ length: 25 }, (_, i) => ({
        dataset: "default",
        identities: [{ namespace: "crm", id: `wh-batch-${i}` }],
        attributes: { tier: "gold" },
      })),
    });
    await poll(() => at("/batch").flatMap((r) => r.payload).length).toBe(25);
    expect(
      at("/batch").every((r) => r.verified && Array.isArray(r.payload) && r.payload.length <= 10),
    ).toBe(true);
    expect(at("/batch").length).toBeLessThan(25);
    const sequences = at("/batch").flatMap((r) => r.payload.map((e: any) => e.data.sequence));
    expect(new Set(sequences).size).toBe(25);
  });

  it("a receiver that never recovers ends dead-lettered, listed, and retryable", {
    timeout: 60_000,
  }, async () => {
    await destination("wh-dead", "/dead", { segments: ["wh-gold"] });
    failing.add("/dead");
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: [{ namespace: "crm", id: "wh-dead-1" }],
      attributes: { tier: "gold" },
    });
    await poll(
      async () =>
        (await api("GET", "/v1/destinations/wh-dead/deliveries?status=dead")).json.items.length,
    ).toBe(1);
    const [dead] = (await api("GET", "/v1/destinations/wh-dead/deliveries?status=dead")).json.items;
    expect(dead.attempts).toBeGreaterThan(2);
    failing.delete("/dead");
    expect(await api("POST", `/v1/destinations/wh-dead/deliveries/${dead.id}/retry`)).toHaveStatus(
      202,
    );
    await poll(() => at("/dead").length).toBe(1);
    expect(at("/dead")[0]!.verified).toBe(true);
    expect(
      (await api("GET", "/v1/destinations/wh-dead/deliveries?status=delivered")).json.items.map(
        (d: any) => d.id,
      ),
    ).toEqual([dead.id]);
  });

  it("a receiver back after a long outage: one redrive sends every dead delivery again, oldest first", {
    timeout: 60_000,
  }, async () => {
    await destination("wh-redrive", "/redrive", { segments: ["wh-gold"] });
    failing.add("/redrive");
    for (const n of [1, 2, 3])
      await api("POST", "/v1/records", {
        dataset: "default",
        identities: [{ namespace: "crm", id: `wh-redrive-${n}` }],
        attributes: { tier: "gold" },
      });
    await poll(
      async () =>
        (await api("GET", "/v1/destinations/wh-redrive/deliveries?status=dead")).json.items.length,
    ).toBe(3);
    failing.delete("/redrive");
    const redrive = await api("POST", "/v1/destinations/wh-redrive/deliveries/redrive");
    expect(redrive).toHaveStatus(202);
    expect(redrive.json).toEqual({ requeued: 3, more: false });
    await poll(() => at("/redrive").length).toBe(3);
    expect(at("/redrive").every((r) => r.verified)).toBe(true);
    expect(
      (await api("GET", "/v1/destinations/wh-redrive/deliveries?status=delivered")).json.items,
    ).toHaveLength(3);
    expect((await api("POST", "/v1/destinations/wh-redrive/deliveries/redrive")).json).toEqual({
      requeued: 0,
      more: false,
    });
  });
});

describe("webhook destinations: each destination on its own", () => {
  /** A receiver that takes connections and never answers (the worst case: every send waits for the time-out). */
  let hanging: http.Server;
  let hangingUrl: string;
  const held: http.ServerResponse[] = [];
  beforeAll(async () => {
    hanging = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/hook`;
    expect(
      await api("PUT", "/v1/segments/wh-iso", {
        name: "isolation",
        rule: { attr: "isoTier", op: "eq", value: "gold" },
      }),
    ).toHaveStatus(200);
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    hanging.closeAllConnections();
    await new Promise((r) => hanging.close(r));
  });

  it("a receiver that never answers does not hold back another destination's deliveries", {
    timeout: 60_000,
  }, async () => {
    expect(
      await api("PUT", "/v1/destinations/wh-hang", {
        type: "webhook",
        url: hangingUrl,
        events: ["segment.entered"],
        segments: ["wh-iso"],
      }),
    ).toHaveStatus(200);
    await destination("wh-fast", "/fast", { events: ["segment.entered"], segments: ["wh-iso"] });
    for (let i = 0; i < 3; i++) {
      await api("POST", "/v1/records", {
        records: Array.from({ length: 10 }, (_, j) => ({
          dataset: "default",
          identities: [{ namespace: "crm", id: `wh-iso-${i}-${j}` }],
          attributes: { isoTier: "gold" },
        })),
      });
    }
    await poll(() => at("/fast").length).toBe(30);
    // Every one of them arrived while the hanging receiver still held its first requests
    // open: none of its sends has even timed out yet, so the fast lane never waited on it.
    expect(held.length).toBeGreaterThan(0);
    const hang = (await api("GET", "/v1/destinations/wh-hang/deliveries?limit=100")).json.items;
    expect(hang).toHaveLength(30);
    expect(hang.every((d: any) => d.attempts === 0)).toBe(true);
  });

  it("a refused connection is stored as what the receiver did, not as an internal error", {
    timeout: 60_000,
  }, async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    expect(
      await api("PUT", "/v1/destinations/wh-refused", {
        type: "webhook",
        url: `http://127.0.0.1:${port}/hook`,
        events: ["segment.entered"],
        segments: ["wh-iso"],
      }),
    ).toHaveStatus(200);
    await api("POST", "/v1/records", {
      dataset: "default",
      identities: [{ namespace: "crm", id: "wh-refused-1" }],
      attributes: { isoTier: "gold" },
    });
    await poll(
      async () =>
        (await api("GET", "/v1/destinations/wh-refused/deliveries")).json.items[0]?.lastError ??
        null,
    ).toBe("could not connect (connection refused or host unreachable)");
  });

  it("paused holds deliveries as pending; unpausing sends them; DELETE drops what is left and says how many", {
    timeout: 60_000,
  }, async () => {
    await destination("wh-paused", "/paused", {
      events: ["segment.entered"],
      segments: ["wh-iso"],
      paused: true,
    });
    await api("POST", "/v1/records", {
      records: Array.from({ length: 4 }, (_, j) => ({
        dataset: "default",
        identities: [{ namespace: "crm", id: `wh-paused-${j}` }],
        attributes: { isoTier: "gold" },
      })),
    });
    await poll(
      async () =>
        (await api("GET", "/v1/destinations/wh-paused/deliveries?status=pending")).json.items
          .length,
    ).toBe(4);
    // Another destination on the same segment got its copies meanwhile: the pause held only this one.
    await poll(
      () =>
        at("/fast").filter((r) =>
          String(r.payload.data.primaryIdentity.id).startsWith("wh-paused-"),
        ).length,
    ).toBe(4);
    expect(at("/paused")).toEqual([]);
    expect(
      await api("PUT", "/v1/destinations/wh-paused", {
        type: "webhook",
        url: `${base}/paused`,
        events: ["segment.entered"],
        segments: ["wh-iso"],
        paused: false,
      }),
    ).toHaveStatus(200);
    await poll(() => at("/paused").length).toBe(4);
    expect(at("/paused").every((r) => r.verified)).toBe(true);

    const removed = await api("DELETE", "/v1/destinations/wh-hang");
    expect(removed).toHaveStatus(200);
    expect(removed.json).toMatchObject({
      name: "wh-hang",
      deleted: true,
      deliveries: { dropped: expect.any(Number) },
    });
    expect(
      removed.json.deliveries.dropped + removed.json.deliveries.removed,
    ).toBeGreaterThanOrEqual(34);
    expect(await api("GET", "/v1/destinations/wh-hang")).toHaveStatus(404);
    expect(await api("DELETE", "/v1/destinations/wh-hang")).toHaveStatus(404);
  });
});

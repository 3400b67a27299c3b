/**
 * Segment's analytics.js (@segment/analytics-next from npm, bundled here with esbuild) in
 * Chromium, configured for Tessera with a public key: it loads its settings document from
 * the Worker, then sends page/track/identify to the one-letter paths with text/plain
 * bodies. Page and track land for the device; identify without an identity token links
 * nothing; with a valid token it links the device to crm:u1.
 */

import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiCall as api, workerUrl } from "./api";
import { launchChromium } from "./chromium";

let browser: Browser;
let server: http.Server;
let origin: string;

beforeAll(async () => {
  // The site: one page and analytics.js bundled from npm, served from its own origin.
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-ajs-"));
  const entry = path.join(dir, "entry.js");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(
    entry,
    `import { AnalyticsBrowser } from "@segment/analytics-next";\nwindow.AnalyticsBrowser = AnalyticsBrowser;\n`,
  );
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "iife",
    outfile: path.join(dir, "analytics.js"),
    platform: "browser",
    nodePaths: [path.resolve("node_modules")],
    logLevel: "error",
  });
  const bundle = readFileSync(path.join(dir, "analytics.js"));
  const page = `<!doctype html><html><head><title>shop</title><script src="/analytics.js"></script></head><body><h1>shop</h1></body></html>`;
  server = http.createServer((req, res) => {
    if (req.url === "/analytics.js")
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    else res.writeHead(200, { "content-type": "text/html" }).end(page);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

describe("analytics.js (Segment's browser SDK) with a public key", () => {
  it("page and track land for the device; identify needs a valid identity token", {
    timeout: 60_000,
  }, async () => {
    const key = await api("POST", "/v1/keys", {
      name: "ajs site",
      kind: "public",
      origins: [origin],
    });
    expect(key).toHaveStatus(201);
    const { key: writeKey, siteSecret } = key.json;

    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    const device = await page.evaluate(
      async ({ writeKey, cdnURL }) => {
        const [analytics] = await (window as any).AnalyticsBrowser.load({ writeKey, cdnURL });
        await analytics.page("Home", { path: "/" });
        await analytics.track("Clicked Banner", { banner: "summer" });
        return analytics.user().anonymousId() as string;
      },
      { writeKey, cdnURL: workerUrl },
    );
    expect(device).toMatch(/^[A-Za-z0-9_-]{16,64}$/);

    const byDevice = async () =>
      (await api("GET", `/v1/profiles/by-identity/device/${device}?include=events`)).json;
    await expect
      .poll(async () => ((await byDevice()).events ?? []).map((e: any) => e.type).sort(), {
        timeout: 15_000,
      })
      .toEqual(["Clicked Banner", "page.view"]);
    const events = (await byDevice()).events;
    expect(events.find((e: any) => e.type === "Clicked Banner").data.properties).toEqual({
      banner: "summer",
    });
    expect(events.find((e: any) => e.type === "page.view").data).toMatchObject({
      name: "Home",
      context: { page: { path: "/" } },
    });

    // identify without a token: rejected per message, nothing linked.
    const identifyStatus = await page.evaluate(
      async ({ writeKey, cdnURL }) => {
        const [analytics] = await (window as any).AnalyticsBrowser.load({ writeKey, cdnURL });
        await analytics.identify("u1", { plan: "gold" });
        return "sent";
      },
      { writeKey, cdnURL: workerUrl },
    );
    expect(identifyStatus).toBe("sent");
    await new Promise((r) => setTimeout(r, 1000));
    expect(await api("GET", "/v1/profiles/by-identity/crm/u1")).toHaveStatus(404);
    expect((await byDevice()).identities.map((i: any) => i.namespace)).toEqual(["device"]);

    // With the site's identity token for crm:u1, the same call links the device.
    const { sign } = await import("hono/jwt");
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: "crm:u1", iat: now, exp: now + 300 }, siteSecret, "HS256");
    await page.evaluate(
      async ({ writeKey, cdnURL, token }) => {
        const [analytics] = await (window as any).AnalyticsBrowser.load({ writeKey, cdnURL });
        await analytics.identify(
          "u1",
          { plan: "gold" },
          { context: { tessera: { identityToken: token } } },
        );
      },
      { writeKey, cdnURL: workerUrl, token },
    );
    await expect
      .poll(
        async () =>
          ((await api("GET", "/v1/profiles/by-identity/crm/u1")).json.identities ?? [])
            .map((i: any) => `${i.namespace}:${i.id}`)
            .sort(),
        { timeout: 15_000 },
      )
      .toEqual(["crm:u1", `device:${device}`]);
    expect((await api("GET", "/v1/profiles/by-identity/crm/u1")).json.attributes).toEqual({
      plan: "gold",
    });
    expect(errors).toEqual([]);
    await context.close();
  });
});

import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "./chromium";

const workerUrl = inject("workerUrl");
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the widget bundle served by the Worker", () => {
  it("is one ES module within the 15 KB gzip budget", async () => {
    const res = await fetch(`${workerUrl}/widget.js`);
    expect(res).toHaveStatus(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const code = Buffer.from(await res.arrayBuffer());
    expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(15 * 1024);
  });

  it("loads in a page served by the Worker and defines its elements", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on(
      "console",
      (m) => void (/Content Security Policy/i.test(m.text()) && errors.push(m.text())),
    );
    const served = await page.goto(`${workerUrl}/`);
    // The demo shop runs under a strict policy (no inline script or style) and is never framed.
    expect(served!.headers()["content-security-policy"]).toContain("script-src 'self'");
    expect(served!.headers()["x-frame-options"]).toBe("DENY");
    await page.waitForFunction(
      () => customElements.get("tessera-personalize") && customElements.get("tessera-field"),
    );
    // With no context available the element falls back to the `default` template.
    await page.waitForSelector("#hero [part=content] h1");
    expect(await page.textContent("#hero [part=content] h1")).toBe("Gear for every trail");
    expect(errors).toEqual([]);
    await page.close();
  });
});

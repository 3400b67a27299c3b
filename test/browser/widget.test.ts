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
    await page.goto(`${workerUrl}/`);
    await page.waitForFunction(() => customElements.get("tessera-personalize") && customElements.get("tessera-field"));
    // With no context available the element falls back to the `default` template.
    await page.waitForSelector("#hero [part=content] h1");
    expect(await page.textContent("#hero [part=content] h1")).toBe("Gear for every trail");
    expect(errors).toEqual([]);
    await page.close();
  });
});

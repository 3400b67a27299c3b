/**
 * The widget and consent (SPEC §8) in Chromium, on the demo shop: Global Privacy Control
 * on, an IAB TCF CMP that denies, and `tessera.setConsent()` — checked by what the browser
 * sends (page views to /v1/collect) and what the server recorded for the device.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { api, textOf, workerUrl } from "./api";
import { chromiumForFile } from "./chromium";

const chromium = chromiumForFile();

/** The demo shop with `init` run before any page script; its collect calls and context URLs, as sent. */
async function shop(init?: () => void) {
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  const collected: string[] = [];
  const contextUrls: string[] = [];
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (r.url().includes("/v1/collect")) collected.push(r.postData() ?? "");
    if (r.url().includes("/v1/context")) contextUrls.push(r.url());
  });
  if (init) await page.addInitScript(init);
  await page.goto(`${workerUrl}/`);
  await expect
    .poll(() => textOf(page.locator("#hero [part=content] h1")))
    .toBe("Gear for every trail");
  const device = await page.evaluate(() => document.cookie.match(/tessera_device=([^;]+)/)?.[1]);
  return { page, device: device!, collected, contextUrls, errors, close: () => context.close() };
}

const consentOf = async (device: string) =>
  (await api("GET", `/v1/profiles/by-identity/device/${device}`)).consent as Record<
    string,
    { status: string; source: string }
  >;
const settle = (page: Page) => page.waitForTimeout(400);

describe("the widget and consent", () => {
  it("by default (analytics granted) sends its page view", async () => {
    const { page, collected, close } = await shop();
    await expect.poll(() => collected.length).toBe(1);
    expect(JSON.parse(collected[0]!).events[0].type).toBe("page.view");
    await close();
    void page;
  });

  it("with Global Privacy Control on, the server denies what follows GPC (marketing)", async () => {
    const { page, device, contextUrls, close } = await shop(() =>
      Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true }),
    );
    expect(contextUrls[0]).toContain("gpc=1");
    await settle(page);
    await expect
      .poll(async () => (await consentOf(device)).marketing)
      .toMatchObject({ status: "denied", source: "gpc" });
    expect((await consentOf(device)).analytics).toMatchObject({ status: "granted" });
    await close();
  });

  it("a TCF CMP that denies: no page view, the denial recorded; then tessera.setConsent grants and the page view goes", async () => {
    const { page, device, collected, contextUrls, errors, close } = await shop(() => {
      (window as any).__tcfapi = (
        command: string,
        _version: number,
        callback: (data: unknown, ok: boolean) => void,
      ) => {
        if (command === "addEventListener")
          callback(
            {
              gdprApplies: true,
              eventStatus: "tcloaded",
              purpose: { consents: { 1: true, 5: true, 6: true } },
            },
            true,
          );
      };
    });
    await settle(page);
    expect(collected).toEqual([]);
    expect(decodeURIComponent(contextUrls[0]!)).toContain(
      "consent=analytics:denied,marketing:denied,personalization:granted",
    );
    const denied = await consentOf(device);
    expect(denied.analytics).toMatchObject({ status: "denied", source: "browser" });
    expect(denied.personalization).toMatchObject({ status: "granted", source: "browser" });

    await page.evaluate(() => (window as any).tessera.setConsent({ analytics: true }));
    await expect.poll(() => collected.length).toBe(1);
    expect((await consentOf(device)).analytics).toMatchObject({
      status: "granted",
      source: "browser",
    });
    expect(errors).toEqual([]);
    await close();
  });

  it("a choice is sent once, with the next context read, not on every page", async () => {
    const { page, device, contextUrls, close } = await shop();
    await page.evaluate(() => (window as any).tessera.setConsent({ marketing: false }));
    await expect
      .poll(() =>
        contextUrls.some((u) => decodeURIComponent(u).includes("consent=marketing:denied")),
      )
      .toBe(true);
    await expect
      .poll(async () => (await consentOf(device)).marketing)
      .toMatchObject({ status: "denied", source: "browser" });
    await page.reload();
    await settle(page);
    expect(contextUrls.at(-1)).not.toContain("consent=");
    await close();
  });
});

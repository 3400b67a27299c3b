import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminKey, api, ensureSeeded, textOf, workerUrl } from "./api";
import { launchChromium } from "./chromium";

let browser: Browser;
beforeAll(async () => {
  await ensureSeeded();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the console", () => {
  it("asks for the key once, finds a profile, opens its card, graph and timeline; the dashboard draws charts", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`${e.message} ${e.stack?.split("\n")[1] ?? ""}`));
    await page.goto(`${workerUrl}/console`);
    await page.fill("tessera-console >> #key", adminKey);
    await page.click("tessera-console >> button[type=submit]");
    await page.fill("tessera-console >> #q", "john");
    await expect.poll(() => textOf(page.locator("tessera-console >> ul.results"))).toContain("John Greene");
    await page.click("tessera-console >> ul.results button:has-text('John Greene')");
    await expect.poll(() => textOf(page.locator("tessera-profile-card >> h2"))).toBe("John Greene");
    expect(await textOf(page.locator("tessera-console >> .panel"))).toContain("History");
    expect(await page.evaluate(() => sessionStorage.getItem("tessera.console.key"))).toBe(adminKey);

    await page.click("tessera-console >> button[role=tab]:has-text('Dashboard')");
    await expect.poll(() => page.locator("tessera-console >> svg[role=img]").count()).toBeGreaterThan(1);
    await page.screenshot({ path: "test-artifacts/console-dashboard.png", fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a webhook destination's recent deliveries and its failures", async () => {
    // Port 9 on loopback refuses connections: the delivery fails and stays failing.
    await api("PUT", "/v1/destinations/console-hook", { type: "webhook", url: "http://127.0.0.1:9/none", events: ["profile.erased"] });
    await api("POST", "/v1/events", { type: "visit", identities: [{ namespace: "crm", id: "console-erase-1" }] });
    await api("DELETE", "/v1/profiles/by-identity/crm/console-erase-1");
    await expect.poll(async () => (await api("GET", "/v1/destinations/console-hook/deliveries")).items[0]?.attempts ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);

    const page = await browser.newPage();
    await page.goto(`${workerUrl}/console`);
    await page.fill("tessera-console >> #key", adminKey);
    await page.click("tessera-console >> button[type=submit]");
    await page.click("tessera-console >> button[role=tab]:has-text('Destinations')");
    const panel = page.locator("tessera-console >> .destination:has-text('console-hook')");
    await expect.poll(() => textOf(panel)).toContain("profile.erased");
    expect(await textOf(panel)).toMatch(/1 failing/);
    expect(await textOf(panel)).toMatch(/TypeError|fetch|connect|refused|Network/i);
    await page.close();
  });
});

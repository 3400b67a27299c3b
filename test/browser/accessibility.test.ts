/**
 * axe-core on every page Tessera serves to people (the card has its own, in every theme and
 * language): the API reference, the console on each of its tabs, and the demo shop. No
 * serious or critical finding.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { workerUrl } from "./api";
import { chromiumForFile } from "./chromium";
import { signIn } from "./console-page";

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);
const chromium = chromiumForFile();

/** Serious and critical axe findings on the page as it is now (the page's CSP is bypassed to inject axe). */
async function findings(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v: any) => v.impact === "serious" || v.impact === "critical")
      .map(
        (v: any) =>
          `${v.id} (${v.impact}): ${v.help} — ${v.nodes
            .map((n: any) => n.target.join(" "))
            .slice(0, 3)
            .join(", ")}`,
      );
  });
}

describe("accessibility (axe-core)", () => {
  it("the API reference at /docs", async () => {
    const context = await chromium.browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${workerUrl}/docs`);
    expect(await findings(page)).toEqual([]);
    await context.close();
  });

  it("the console, on every tab", async () => {
    const context = await chromium.browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${workerUrl}/console`);
    expect(await findings(page)).toEqual([]); // the sign-in form
    await signIn(page, false);
    const tabs = await page.locator("tessera-console >> button[role=tab]").allTextContents();
    expect(tabs.length).toBeGreaterThan(5);
    for (const tab of tabs) {
      await page.click(`tessera-console >> button[role=tab]:has-text('${tab}')`);
      await page.waitForTimeout(500); // the tab's first requests
      expect({ tab, findings: await findings(page) }).toEqual({ tab, findings: [] });
    }
    await context.close();
  });

  it("the demo shop", async () => {
    const context = await chromium.browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${workerUrl}/`);
    await page.waitForLoadState("networkidle");
    expect(await findings(page)).toEqual([]);
    await context.close();
  });
});

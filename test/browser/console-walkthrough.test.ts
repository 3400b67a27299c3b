/**
 * The console as a working tool, in Chromium at desktop width and at 390 px (a phone):
 * create a segment and see its size, create a webhook destination and send it a test
 * delivery (a real HTTP receiver gets it), retry a delivery that failed, upload a CSV and
 * watch its progress, run an export, create and delete an API key, sign out. Screenshots of each step are saved under
 * test-artifacts/.
 */
import http from "node:http";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminKey, api, textOf, workerUrl } from "./api";
import { chromiumForFile } from "./chromium";
import { openTab, signIn } from "./console-page";

const chromium = chromiumForFile();
let server: http.Server;
let receiver = "";
const received: { path: string; type: string }[] = [];
/** Paths the receiver answers 503 on. */
const failing = new Set<string>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (failing.has(path)) return res.writeHead(503).end("down");
      received.push({ path, type: JSON.parse(Buffer.concat(chunks).toString()).type });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiver = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((r) => server?.close(r)));

const SIZES = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

async function openConsole(
  width: number,
  height: number,
): Promise<{ page: Page; errors: string[] }> {
  const page = await chromium.browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  return { page, errors };
}

/** Nothing wider than the viewport: the page itself never scrolls sideways. */
const fitsWidth = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe.each(SIZES)("the console at $name size ($width px)", ({ name, width, height }) => {
  const shot = (page: Page, step: string) =>
    page.screenshot({ path: `test-artifacts/console-walk-${name}-${step}.png`, fullPage: true });

  it("creates a segment and shows its size", async () => {
    const { page, errors } = await openConsole(width, height);
    await openTab(page, "Segments");
    const form = page.locator("tessera-console-segments >> form[aria-label='Create a segment']");
    await form.locator("input[name=id]").fill(`walk-gold-${name}`);
    await form.locator("input[name=name]").fill("Gold members");
    await form
      .locator("textarea[name=rule]")
      .fill(`{ "attr": "loyalty.tier", "op": "eq", "value": "gold" }`);
    // While the rule is typed, the form says how many profiles it matches now (nothing saved).
    const preview = form.locator("[data-preview]");
    await expect
      .poll(() => textOf(preview))
      .toMatch(/^Matches (about )?[\d,]+ of [\d,]+ profiles now/);
    const expected = await api("PUT", `/v1/segments/walk-gold-${name}?preview=true`, {
      name: "x",
      rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
    });
    expect(await textOf(preview)).toContain(
      `${expected.exact ? "" : "about "}${expected.size.toLocaleString("en-US")} of ${expected.totalProfiles.toLocaleString("en-US")}`,
    );
    expect(expected.size).toBeGreaterThan(0);
    expect(
      (
        await fetch(`${workerUrl}/v1/segments/walk-gold-${name}`, {
          headers: { authorization: `Bearer ${adminKey}` },
        })
      ).status,
    ).toBe(404);
    // A typo is refused with the API's own words, and nothing is created.
    await form
      .locator("textarea[name=rule]")
      .fill(`{ "attr": "loyalty.tier", "op": "equals", "value": "gold" }`);
    await form.locator("button[type=submit]").click();
    await expect.poll(() => textOf(form.locator("[role=alert]"))).toMatch(/op/);
    await expect.poll(() => textOf(preview)).toMatch(/^Size preview: .*op/);
    await form
      .locator("textarea[name=rule]")
      .fill(`{ "attr": "loyalty.tier", "op": "eq", "value": "gold" }`);
    await form.locator("button[type=submit]").click();
    const row = page.locator(`tessera-console-segments >> tr:has-text('walk-gold-${name}')`);
    await expect.poll(() => textOf(row), { timeout: 20_000 }).toMatch(/ready/);
    const size = (await api("GET", `/v1/segments/walk-gold-${name}`)).size;
    expect(size).toBeGreaterThan(0);
    if (expected.exact) expect(size).toBe(expected.size);
    expect(await textOf(row)).toContain(size.toLocaleString("en-US"));
    // Edit it: the form holds its definition; a new name and public, the rule kept.
    await row.locator("button:has-text('Edit')").click();
    const edit = page.locator("tessera-console-segments >> form[aria-label='Edit a segment']");
    expect(await edit.locator("input[name=id]").inputValue()).toBe(`walk-gold-${name}`);
    expect(JSON.parse(await edit.locator("textarea[name=rule]").inputValue())).toEqual({
      attr: "loyalty.tier",
      op: "eq",
      value: "gold",
    });
    await edit.locator("input[name=name]").fill("Gold members (all)");
    await edit.locator("input[name=public]").check();
    await edit.locator("button[type=submit]").click();
    await expect
      .poll(async () => (await api("GET", `/v1/segments/walk-gold-${name}`)).name)
      .toBe("Gold members (all)");
    expect((await api("GET", `/v1/segments/walk-gold-${name}`)).public).toBe(true);
    expect(await fitsWidth(page)).toBe(true);
    await shot(page, "segment");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("creates a webhook destination, sends a test delivery, and retries a delivery that failed", async () => {
    const { page, errors } = await openConsole(width, height);
    await openTab(page, "Destinations");
    const hook = `walk-hook-${name}`;
    const form = page.locator(
      "tessera-console-destinations >> form[aria-label='Create a webhook destination']",
    );
    await form.locator("input[name=name]").fill(hook);
    await form.locator("input[name=url]").fill(`${receiver}/${hook}`);
    await form.locator("button[type=submit]").click();
    // The signing secret is shown once, right after creation.
    await expect
      .poll(() => textOf(page.locator("tessera-console-destinations >> .secret")))
      .toMatch(/whsec_/);
    const panel = page.locator(`tessera-console-destinations >> .destination:has-text('${hook}')`);
    await panel.locator("button:has-text('Send test delivery')").click();
    await expect
      .poll(() => received.some((r) => r.path === `/${hook}` && r.type === "destination.test"), {
        timeout: 20_000,
      })
      .toBe(true);
    await expect
      .poll(() => textOf(panel), { timeout: 20_000 })
      .toMatch(/destination\.test\s*delivered/);
    await shot(page, "test-delivery");

    // A receiver that is down: the delivery fails, is retried in the background, and gives up.
    const flaky = `walk-flaky-${name}`;
    failing.add(`/${flaky}`);
    await api("PUT", `/v1/destinations/${flaky}`, {
      type: "webhook",
      url: `${receiver}/${flaky}`,
      events: ["segment.entered"],
    });
    await api("POST", `/v1/destinations/${flaky}/test`);
    await expect
      .poll(
        async () => (await api("GET", `/v1/destinations/${flaky}/deliveries`)).items[0]?.status,
        { timeout: 40_000, interval: 500 },
      )
      .toBe("dead");
    // The receiver is back: one click sends it again.
    failing.delete(`/${flaky}`);
    await openTab(page, "Segments");
    await openTab(page, "Destinations");
    const flakyPanel = page.locator(
      `tessera-console-destinations >> .destination:has-text('${flaky}')`,
    );
    await expect.poll(() => textOf(flakyPanel)).toMatch(/1 failing/);
    // One delivery's "Retry" at one size, "Retry all dead" (a redrive of the destination) at the other.
    await flakyPanel
      .locator(name === "desktop" ? "button:text-is('Retry')" : "button:text-is('Retry all dead')")
      .click();
    await expect
      .poll(() => received.some((r) => r.path === `/${flaky}`), { timeout: 20_000 })
      .toBe(true);
    await expect
      .poll(() => textOf(flakyPanel), { timeout: 20_000 })
      .toMatch(/destination\.test\s*delivered/);
    expect(await fitsWidth(page)).toBe(true);
    await shot(page, "retry");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("creates an API key, shows it once, and deletes it", async () => {
    const { page, errors } = await openConsole(width, height);
    await openTab(page, "Keys");
    const form = page.locator("tessera-console-keys >> form[aria-label='Create an API key']");
    await form.locator("input[name=name]").fill(`walk key ${name}`);
    await form.locator("button[type=submit]").click();
    const shown = page.locator("tessera-console-keys >> .secret code");
    await expect.poll(() => textOf(shown)).toMatch(/^sk_/);
    const key = (await textOf(shown))!;
    // The key works (ingest scope) …
    const send = () =>
      fetch(`${workerUrl}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          type: "walk",
          identities: [{ namespace: "crm", id: `walk-key-${name}` }],
        }),
      });
    expect((await send()).status).toBe(200);
    expect(await fitsWidth(page)).toBe(true);
    await shot(page, "keys");
    // … until it is deleted.
    page.once("dialog", (dialog) => void dialog.accept());
    await page
      .locator(`tessera-console-keys >> tr:has-text('walk key ${name}') button:has-text('Delete')`)
      .click();
    await expect
      .poll(() => page.locator(`tessera-console-keys >> tr:has-text('walk key ${name}')`).count())
      .toBe(0);
    expect((await send()).status).toBe(401);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("uploads a CSV with progress, runs an export, and signs out", async () => {
    const { page, errors } = await openConsole(width, height);
    await openTab(page, "Batches");
    const rows = Array.from(
      { length: 40 },
      (_, i) => `WALK-${name}-${i},walk${i}.${name}@example.com,Walker${i}`,
    );
    const form = page.locator("tessera-console-batches >> form[aria-label='Upload a file']");
    await expect.poll(() => form.locator("select[name=dataset] option").count()).toBeGreaterThan(0);
    await form.locator("select[name=dataset]").selectOption("crm");
    await form.locator("input[name=file]").setInputFiles({
      name: `walk-${name}.csv`,
      mimeType: "text/csv",
      buffer: Buffer.from(`identity.crm,identity.email,firstName\n${rows.join("\n")}\n`),
    });
    await form.locator("button[type=submit]").click();
    const status = form.locator(".upload");
    await expect
      .poll(() => textOf(status), { timeout: 30_000 })
      .toMatch(/completed — .*40 of 40 rows/);
    expect(await status.locator("progress").getAttribute("value")).toBe("40");
    expect(
      (await api("GET", `/v1/profiles/by-identity/crm/WALK-${name}-7`)).attributes.firstName,
    ).toBe("Walker7");
    await shot(page, "upload");

    const lake = `walk-lake-${name}`;
    await api("PUT", `/v1/destinations/${lake}`, {
      type: "r2",
      prefix: `walk-${name}/`,
      schedule: "manual",
      format: "ndjson",
      content: "profiles",
      mode: "full",
    });
    await openTab(page, "Destinations");
    const panel = page.locator(`tessera-console-destinations >> .destination:has-text('${lake}')`);
    await panel.locator("button:has-text('Run export now')").click();
    await expect.poll(() => textOf(panel), { timeout: 30_000 }).toMatch(/completed/);
    const [run] = (await api("GET", `/v1/destinations/${lake}/runs`)).items;
    expect(run.status).toBe("completed");
    expect(run.rows).toBeGreaterThan(40);
    expect(await fitsWidth(page)).toBe(true);
    await shot(page, "export");

    await page.click("tessera-console >> button:has-text('Sign out')");
    await expect.poll(() => page.locator("tessera-console >> #key").count()).toBe(1);
    expect(await page.evaluate(() => sessionStorage.getItem("tessera.console.key"))).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("the console while the API is slow", () => {
  it("says it is loading instead of showing a blank tab", async () => {
    const { page } = await openConsole(1280, 900);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route("**/v1/segments", async (route) => {
      await held;
      await route.continue();
    });
    await openTab(page, "Segments");
    await expect
      .poll(() =>
        textOf(page.locator("tessera-console-segments >> [role=status]:not([data-preview])")),
      )
      .toBe("Loading…");
    release();
    await expect
      .poll(() =>
        textOf(page.locator("tessera-console-segments >> .panel h3:has-text('Segment sizes')")),
      )
      .toBe("Segment sizes");
    await page.close();
  });
});

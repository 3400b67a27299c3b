import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, ensureSeeded, textOf, workerUrl } from "./api";
import { launchChromium } from "./chromium";

const ARTIFACTS = "test-artifacts";
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);
let browser: Browser;
let token: string;

beforeAll(async () => {
  await ensureSeeded();
  browser = await launchChromium();
  // A short-lived token for the agent's browser (profiles:read only).
  token = (await api("POST", "/v1/tokens", { scopes: ["profiles:read"], ttlSeconds: 900 })).token;
});
afterAll(async () => {
  await browser?.close();
});

async function embed(
  query: Record<string, string>,
  options: { setup?: (p: Page) => Promise<void>; bypassCSP?: boolean } = {},
) {
  const context = await browser.newContext({ bypassCSP: options.bypassCSP ?? false });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  await options.setup?.(page);
  await page.goto(`${workerUrl}/embed/card?${new URLSearchParams({ token, ...query })}`);
  const shadow = (selector: string) => page.locator(`tessera-profile-card >> ${selector}`);
  return { page, shadow, cspErrors, close: () => context.close() };
}

describe("<tessera-profile-card> in /embed/card", () => {
  it("shows name, primary identity, identities, attributes with provenance, segments and activity", async () => {
    const { page, shadow, cspErrors, close } = await embed({
      identity: "email:John.Greene@luma.com",
    });
    await expect.poll(() => textOf(shadow("h2"))).toBe("John Greene");
    expect(await shadow(".primary").textContent()).toContain("crm: CUST-10000");
    expect(await shadow("[part=identities]").textContent()).toContain("john.greene@luma.com");
    expect(await shadow("[part=attributes]").textContent()).toContain("loyalty.tier");
    expect(await shadow("[part=segments]").textContent()).toContain("Gold members");
    expect(await shadow("[part=events]").textContent()).toContain("purchase");
    // An order says what it was and what it cost, in the viewer's format (EUR, a product).
    expect(await shadow("[part=events] .summary").first().textContent()).toBe(
      "€249.00 · Trail tent",
    );
    expect(cspErrors).toEqual([]);
    const csp = (await page.request.get(page.url())).headers()["content-security-policy"];
    expect(csp).toContain("frame-ancestors");
    expect(csp).not.toContain("unsafe-inline");
    await close();
  });

  it("keyboard focus reaches an attribute and shows its provenance", async () => {
    const { page, shadow, close } = await embed({ identity: "crm:CUST-10000" });
    await expect.poll(() => textOf(shadow("h2"))).toBe("John Greene");
    let found = false;
    for (let i = 0; i < 20 && !found; i++) {
      await page.keyboard.press("Tab");
      found = await page.evaluate(() => {
        const active = document.querySelector("tessera-profile-card")?.shadowRoot
          ?.activeElement as HTMLElement | null;
        if (!active || active.tagName !== "DT") return false;
        const tip = active.querySelector("[role=tooltip]") as HTMLElement;
        return getComputedStyle(tip).display !== "none" && /From crm/.test(tip.textContent ?? "");
      });
    }
    expect(found).toBe(true);
    await close();
  });

  it("shows computed attributes first, under their names, with what they count", async () => {
    // A type only this test sends, so no seeded profile gets the value.
    await api("PUT", "/v1/computed-attributes/card-ltv", {
      name: "Lifetime value",
      aggregate: "sum",
      field: "data.amount",
      filter: { type: ["card.test.purchase"] },
    });
    const purchase = (n: number, amount: number) => ({
      id: `card-ltv-${n}`,
      type: "card.test.purchase",
      identities: [{ namespace: "crm", id: "CARD-LTV-1" }],
      data: { amount },
    });
    await api("POST", "/v1/records", {
      dataset: "crm",
      identities: [{ namespace: "crm", id: "CARD-LTV-1" }],
      attributes: { firstName: "Carla", lastName: "Ltv", loyalty: { tier: "silver" } },
    });
    await api("POST", "/v1/events", { events: [purchase(1, 1200), purchase(2, 640)] });
    const { page, shadow, close } = await embed({ identity: "crm:CARD-LTV-1" });
    await expect.poll(() => textOf(shadow("h2"))).toBe("Carla Ltv");
    const first = await page.evaluate(() => {
      const dt = document
        .querySelector("tessera-profile-card")!
        .shadowRoot!.querySelector("[part=attributes] dt")!;
      const label = [...dt.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent)
        .join("")
        .trim();
      return {
        label,
        tip: dt.querySelector("[role=tooltip]")?.textContent,
        value: dt.nextElementSibling?.textContent,
      };
    });
    expect(first).toMatchObject({ label: "Lifetime value", value: "1840" });
    expect(first.tip).toContain("Computed from 2 events");
    expect(await shadow("[part=attributes]").textContent()).not.toContain("computed.card-ltv");
    await close();
    await api("DELETE", "/v1/computed-attributes/card-ltv");
  });

  it("renders text, never HTML, from attribute values", async () => {
    const { page, shadow, close } = await embed({ identity: "crm:CUST-10001" });
    await expect.poll(() => textOf(shadow("[part=attributes]"))).toContain("<img");
    expect(
      await page.evaluate(
        () =>
          document.querySelector("tessera-profile-card")!.shadowRoot!.querySelectorAll("img, b")
            .length,
      ),
    ).toBe(0);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await close();
  });

  it("has loading, error (with retry), not-found, denied and empty states", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const loading = await embed(
      { identity: "crm:CUST-10000" },
      {
        setup: async (p) =>
          void (await p.route(
            "**/v1/profiles/**",
            async (route) => (await gate, route.continue()),
          )),
      },
    );
    await expect.poll(() => textOf(loading.shadow("[part=state]"))).toBe("Loading profile…");
    release();
    await expect.poll(() => textOf(loading.shadow("h2"))).toBe("John Greene");
    await loading.close();

    const failing = await embed(
      { identity: "crm:CUST-10000" },
      {
        setup: async (p) =>
          void (await p.route("**/v1/profiles/**", (route) =>
            route.fulfill({ status: 500, body: "{}" }),
          )),
      },
    );
    await expect
      .poll(() => textOf(failing.shadow("[part=state]")))
      .toContain("could not be loaded");
    expect(await failing.shadow("button").textContent()).toBe("Try again");
    await failing.close();

    const missing = await embed({ identity: "crm:NOBODY" });
    await expect
      .poll(() => textOf(missing.shadow("[part=state]")))
      .toBe("No profile found for crm:NOBODY");
    await missing.close();

    // A token that is not valid (expired, mistyped) says so and what to do; a valid one without the right says "not allowed".
    const expired = await embed({ identity: "crm:CUST-10000", token: "sk_not_a_real_key" });
    await expect
      .poll(() => textOf(expired.shadow("[part=state]")))
      .toMatch(/link has expired or is not valid/);
    await expired.close();
    const noRead = (await api("POST", "/v1/tokens", { scopes: ["segments"], ttlSeconds: 900 }))
      .token;
    const denied = await embed({ identity: "crm:CUST-10000", token: noRead });
    await expect
      .poll(() => textOf(denied.shadow("[part=state]")))
      .toBe("You are not allowed to see this profile.");
    await denied.close();

    const empty = await embed({ identity: "email:empty@example.com" });
    await expect
      .poll(() => textOf(empty.shadow("[part=state]")))
      .toBe("Nothing is known about this person yet.");
    await empty.close();
  });

  it("is accessible (axe-core) and speaks Dutch; screenshots light/dark × en/nl", async () => {
    for (const theme of ["light", "dark"]) {
      for (const lang of ["en", "nl"]) {
        const { page, shadow, close } = await embed(
          { identity: "crm:CUST-10000", theme, lang },
          { bypassCSP: true },
        );
        await expect.poll(() => textOf(shadow("h2"))).toBe("John Greene");
        if (lang === "nl")
          expect(await shadow("[part=identities] h3").textContent()).toBe("Identiteiten");
        await page.addScriptTag({ content: axeSource });
        const violations = await page.evaluate(async () => {
          const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
          return result.violations.map((v: any) => `${v.id}: ${v.help}`);
        });
        expect(violations).toEqual([]);
        await page
          .locator("tessera-profile-card")
          .screenshot({ path: `${ARTIFACTS}/card-${theme}-${lang}.png` });
        await close();
      }
    }
  });
});

/**
 * The integration snippets of docs/integrations.md, run as written: each code block marked
 * "tested" is written out as a module, imported, and used against the running Worker (the
 * identity tokens a site's back end signs, the help desk card's URL in Chromium) or with
 * the real `standardwebhooks` package (verifying a delivery).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminKey, api, ensureSeeded, textOf, workerUrl } from "./api";
import { launchChromium } from "./chromium";

const DOC = readFileSync(path.resolve(import.meta.dirname, "../../docs/integrations.md"), "utf8");
const ORIGIN = "https://shop.integrations.example";
// Inside the repository, so a snippet's own imports (standardwebhooks) resolve from node_modules.
const SNIPPETS = path.resolve(import.meta.dirname, "../../test-artifacts/snippets");

/** The one ```js block of the doc that contains `marker`, imported as a module. */
async function snippet(name: string, marker: string) {
  const blocks = [...DOC.matchAll(/```js\n([\s\S]*?)```/g)].map((m) =>
    m[1]!.replace(/^ {3}/gm, ""),
  );
  const found = blocks.filter((b) => b.includes(marker));
  if (found.length !== 1)
    throw new Error(
      `expected one js block with ${marker} in docs/integrations.md, found ${found.length}`,
    );
  mkdirSync(SNIPPETS, { recursive: true });
  const file = path.join(SNIPPETS, `${name}.mjs`);
  writeFileSync(file, found[0]!);
  return import(file);
}

let browser: Browser;
let site: { key: string; siteSecret: string };

beforeAll(async () => {
  await ensureSeeded();
  browser = await launchChromium();
  site = await api("POST", "/v1/keys", {
    name: "integrations site",
    kind: "public",
    origins: [ORIGIN],
  });
});
afterAll(async () => {
  await browser?.close();
});

async function context(device: string, identityToken: string) {
  const url = `${workerUrl}/v1/context?${new URLSearchParams({ key: site.key, device, identityToken })}`;
  const res = await fetch(url, { headers: { origin: ORIGIN } });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    known: boolean;
    segments: string[];
    attributes: Record<string, unknown>;
  };
}

describe("docs/integrations.md, as written", () => {
  it("the Node identity token is accepted: the visitor is known, with their segments", async () => {
    const { identityToken } = await snippet("identity-token-node", 'from "node:crypto"');
    const answer = await context(
      "integrations-device-node-01",
      identityToken(site.siteSecret, "crm:CUST-10000"),
    );
    expect(answer).toMatchObject({
      known: true,
      segments: expect.arrayContaining(["gold-members"]),
    });
    // A token signed with another secret is not.
    expect(
      (
        await context(
          "integrations-device-node-02",
          identityToken("not-the-site-secret", "crm:CUST-10000"),
        )
      ).known,
    ).toBe(false);
  });

  it("the Web Crypto identity token is accepted too", async () => {
    const { identityToken } = await snippet("identity-token-webcrypto", "crypto.subtle");
    const answer = await context(
      "integrations-device-web-01",
      await identityToken(site.siteSecret, "crm:CUST-10000"),
    );
    expect(answer).toMatchObject({
      known: true,
      segments: expect.arrayContaining(["gold-members"]),
    });
  });

  it("the help desk card URL shows the person in Chromium", async () => {
    const { cardUrl } = await snippet("card-url", "export async function cardUrl");
    const url = await cardUrl(workerUrl, adminKey, "email:John.Greene@luma.com");
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await expect.poll(() => textOf(page.locator("tessera-profile-card >> h2"))).toBe("John Greene");
    await page.context().close();
  });

  it("verifyDelivery accepts a signed delivery and refuses a tampered one", async () => {
    const { verifyDelivery } = await snippet("verify-delivery", "export function verifyDelivery");
    const secret = `whsec_${Buffer.from("integrations-test-secret-0123456789").toString("base64")}`;
    const body = JSON.stringify({
      type: "segment.entered",
      timestamp: new Date().toISOString(),
      data: { profileId: "p1", sequence: 1 },
    });
    const id = "msg_integrations_1";
    const at = new Date();
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, at, body),
    };
    expect(verifyDelivery(secret, body, headers)).toMatchObject({ type: "segment.entered" });
    expect(() => verifyDelivery(secret, body.replace("p1", "p2"), headers)).toThrow();
  });
});

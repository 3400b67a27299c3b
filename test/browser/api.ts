import { inject } from "vitest";
import { createClient } from "../../client/index.js";
import { poll, runFinished } from "../poll";

export const workerUrl = inject("workerUrl");
export const adminKey = inject("adminKey");

/** Polls a destination's run until it completed or failed; the run. */
export async function waitForRun(name: string, runId: string) {
  const read = async () =>
    (await api("GET", `/v1/destinations/${name}/runs`)).items.find((r: any) => r.runId === runId);
  return poll<any>(read, runFinished, `run ${runId} of ${name}`, { everyMs: 100 });
}

/** The typed client (client/) against the local Worker, with the e2e admin key. */
export const tessera = createClient({ baseUrl: workerUrl, key: adminKey });

/** Calls the local Worker's API with the e2e admin key. */
export async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${workerUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Calls the local Worker's API with the e2e admin key; answers status and body, whatever the status. */
export async function apiCall(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${workerUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const DAY = 86_400_000;
const id = (namespace: string, value: string) => ({ namespace, id: value });

/** The demo's gold customer (CUST-10000), an XSS attempt (CUST-10001), and the public segments. */
export async function seedBrowserData() {
  await api("PUT", "/v1/datasets/crm", { kind: "records" });
  await api("PUT", "/v1/settings/personalization", { attributes: ["firstName", "loyalty.tier"] });
  await api("PUT", "/v1/segments/gold-members", {
    name: "Gold members",
    public: true,
    rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
  });
  await api("PUT", "/v1/segments/frequent-buyers", {
    name: "Frequent buyers",
    public: true,
    rule: { event: "purchase", within: "P30D", count: { gte: 2 } },
  });
  await api("POST", "/v1/records", {
    records: [
      {
        dataset: "crm",
        identities: [id("crm", "CUST-10000"), id("email", "john.greene@luma.com")],
        attributes: {
          firstName: "John",
          lastName: "Greene",
          loyalty: { tier: "gold" },
          address: { city: "Amsterdam" },
        },
      },
      {
        dataset: "crm",
        identities: [id("crm", "CUST-10001")],
        attributes: {
          firstName: '<img src=x onerror="window.__xss=1">',
          lastName: "<b>bold</b>",
          loyalty: { tier: "gold" },
        },
      },
    ],
  });
  await api("POST", "/v1/events", {
    events: [
      {
        id: "b-1",
        type: "purchase",
        timestamp: new Date(Date.now() - 2 * DAY).toISOString(),
        identities: [id("crm", "CUST-10000")],
        data: { product: "Trail tent", amount: 249, currency: "EUR" },
      },
      {
        id: "b-2",
        type: "purchase",
        timestamp: new Date(Date.now() - 5 * DAY).toISOString(),
        identities: [id("crm", "CUST-10000")],
      },
    ],
  });
  // A profile with an identity and nothing else: the card's "empty" state.
  await api("POST", "/v1/records", {
    dataset: "default",
    identities: [id("email", "empty@example.com")],
    attributes: {},
  });
}

/** Seeds once per test run (the browser test files share one local Worker). */
export async function ensureSeeded() {
  const res = await fetch(`${workerUrl}/v1/profiles/by-identity/crm/CUST-10001`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  if (res.status === 404) await seedBrowserData();
}

/** A locator's text, or null when it does not appear within 3 s (for expect.poll). */
export async function textOf(locator: {
  textContent(options?: { timeout?: number }): Promise<string | null>;
}) {
  return locator.textContent({ timeout: 3_000 }).catch(() => null);
}

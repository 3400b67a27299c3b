/**
 * The tracking API driven by the real SDKs, unchanged but for their host option, against
 * the local Worker (`wrangler dev`): @segment/analytics-node and
 * @rudderstack/rudder-sdk-node (which gzips its bodies and labels them
 * application/x-www-form-urlencoded).
 */

import RudderAnalytics from "@rudderstack/rudder-sdk-node";
import { Analytics as SegmentAnalytics } from "@segment/analytics-node";
import { describe, expect, it } from "vitest";
import { apiCall as api, workerUrl } from "./api";

async function ingestKey(name: string) {
  const res = await api("POST", "/v1/keys", { name, kind: "secret", scopes: ["ingest"] });
  expect(res).toHaveStatus(201);
  return res.json.key as string;
}

const lookup = (userId: string) =>
  api("GET", `/v1/profiles/by-identity/crm/${userId}?include=events&events.limit=50`);

/** identify + track (Order Completed with properties) + page, with fixed message ids. */
function sendThrough(
  client: { identify: Function; track: Function; page: Function },
  userId: string,
  prefix: string,
) {
  client.identify({
    userId,
    messageId: `${prefix}-identify`,
    traits: { email: `${userId}@Example.com`, firstName: "Ann", plan: "pro" },
  });
  client.track({
    userId,
    messageId: `${prefix}-order`,
    event: "Order Completed",
    properties: { orderId: "o-1", total: 30.5, currency: "EUR" },
  });
  client.page({
    userId,
    messageId: `${prefix}-page`,
    name: "Checkout",
    properties: { path: "/checkout" },
  });
}

function expectStored(profile: any, userId: string) {
  expect(profile.attributes).toMatchObject({
    email: `${userId}@Example.com`,
    firstName: "Ann",
    plan: "pro",
  });
  expect(profile.identities.map((i: any) => `${i.namespace}:${i.id}`).sort()).toEqual([
    `crm:${userId}`,
    `email:${userId.toLowerCase()}@example.com`,
  ]);
  const order = profile.events.find((e: any) => e.type === "Order Completed");
  expect(order.data.properties).toEqual({ orderId: "o-1", total: 30.5, currency: "EUR" });
  expect(order.data.context.library.name).toBeTruthy();
  const page = profile.events.find((e: any) => e.type === "page.view");
  expect(page.data).toMatchObject({ name: "Checkout", properties: { path: "/checkout" } });
}

describe("real tracking SDKs against the local Worker", () => {
  it("@segment/analytics-node: identify, track, page land; resending the same messageIds stores nothing new", async () => {
    const key = await ingestKey("segment node");
    const errors: unknown[] = [];
    const run = async () => {
      const analytics = new SegmentAnalytics({
        writeKey: key,
        host: workerUrl,
        flushAt: 10,
        maxRetries: 0,
      });
      analytics.on("error", (e) => errors.push(e));
      sendThrough(analytics, "seg-u1", "seg");
      await analytics.closeAndFlush({ timeout: 20_000 });
    };
    await run();
    expect(errors).toEqual([]);
    const first = await lookup("seg-u1");
    expect(first).toHaveStatus(200);
    expectStored(first.json, "seg-u1");
    const count = first.json.events.length;
    expect(count).toBe(3); // identify receipt, Order Completed, page.view

    await run();
    const second = await lookup("seg-u1");
    expect(second.json.events.length).toBe(count);
    expect(second.json.attributes).toEqual(first.json.attributes);
  });

  it("@rudderstack/rudder-sdk-node: its gzip form-labelled bodies are read; resending stores nothing new", async () => {
    const key = await ingestKey("rudder node");
    const errors: unknown[] = [];
    const run = async () => {
      const client = new RudderAnalytics(key, {
        dataPlaneUrl: workerUrl,
        flushAt: 10,
        retryCount: 0,
        errorHandler: (e: unknown) => errors.push(e),
      });
      sendThrough(client, "rud-u1", "rud");
      await client.flush();
    };
    await run();
    expect(errors).toEqual([]);
    const first = await lookup("rud-u1");
    expect(first).toHaveStatus(200);
    expectStored(first.json, "rud-u1");
    const count = first.json.events.length;
    await run();
    expect((await lookup("rud-u1")).json.events.length).toBe(count);
  });
});

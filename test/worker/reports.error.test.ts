/** Report date ranges (SPEC §2 reporting, §5 data views): bad or impossible dates are a 400 naming the field, never a 500 or a quiet roll-over. */
import { describe, expect, it } from "vitest";
import { call, expectErrorShape } from "../helpers";

const ENDPOINTS = [
  "/v1/reports/messages?",
  "/v1/reports/events?",
  "/v1/reports/journeys?conversion=purchase&",
  "/v1/data-views/journeys/report?",
];

describe("report ranges", () => {
  it.each(
    ENDPOINTS.flatMap((base) => [
      [base, "from=9999-12-30", "from"],
      [base, "from=2026-02-30", "from"],
      [base, "from=0000-01-01", "from"],
      [base, "to=2026-13-01", "to"],
      [base, "from=1969-12-31", "from"],
      [base, "to=+275760-09-13T00:00:00Z", "to"],
    ]),
  )("%s%s is refused", async (base, query, path) => {
    const res = await call("GET", `${base}${query}`);
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0].path).toBe(path);
  });

  it("a real leap day is a day", async () => {
    expect(await call("GET", "/v1/reports/events?from=2024-02-29&to=2024-03-01")).toHaveStatus(200);
  });
});

describe("report slots", () => {
  it("a key runs at most two reports at once: a third is 429 with Retry-After until one finishes; other keys are not held", async () => {
    const { env } = await import("cloudflare:test");
    const { createKey } = await import("../helpers");
    const created = (
      await call("POST", "/v1/keys", { body: { name: "busy reader", scopes: ["profiles:read"] } })
    ).json;
    const [busy, keyId] = [created.key as string, created.id as string];
    const other = await createKey(["profiles:read"]);
    const gate = env.READ_GATE.get(env.READ_GATE.idFromName(keyId));
    // Two reports of this key are running (their slots taken as the route takes them).
    const held = [await gate.acquire(2, 60_000), await gate.acquire(2, 60_000)];
    expect(held.every((t) => typeof t === "string")).toBe(true);
    for (const path of [
      "/v1/reports/messages",
      "/v1/reports/events",
      "/v1/data-views/journeys/report",
    ]) {
      const refused = await call("GET", path, { key: busy });
      expect(refused).toHaveStatus(429);
      expectErrorShape(refused.json, "rate_limited");
      expect(refused.headers.get("retry-after")).toBe("2");
      expect(await call("GET", path, { key: other })).toHaveStatus(200);
    }
    await gate.release(held[0]!);
    expect(await call("GET", "/v1/reports/messages", { key: busy })).toHaveStatus(200);
    // The finished report gave its slot back: one is still free.
    expect(await gate.acquire(2, 60_000)).toEqual(expect.any(String));
  });
});

import { describe, expect, it } from "vitest";
import { call, createKey, expectErrorShape } from "../helpers";

describe("retention: refused input and scopes", () => {
  it("checks its input and its scope; a refused change leaves the settings as they were", async () => {
    expect(
      await call("PUT", "/v1/destinations/ret-archive", {
        body: { type: "r2", prefix: "archive/", schedule: "manual" },
      }),
    ).toHaveStatus(200);
    expect(
      await call("PUT", "/v1/settings/retention", {
        body: { pseudonymousProfileDays: 60, archiveDestination: "ret-archive" },
      }),
    ).toHaveStatus(200);
    const records = await call("PUT", "/v1/datasets/ret-crm", {
      body: { kind: "records", ttlDays: 10 },
    });
    expect(records).toHaveStatus(400);
    expect(records.json.error.details[0].path).toBe("ttlDays");
    const missing = await call("PUT", "/v1/settings/retention", {
      body: { archiveDestination: "nope" },
    });
    expect(missing).toHaveStatus(400);
    expectErrorShape(missing.json, "invalid_request");
    expect(
      await call("PUT", "/v1/settings/retention", { body: { pseudonymousProfileDays: 0 } }),
    ).toHaveStatus(400);
    expect((await call("GET", "/v1/settings/retention")).json).toEqual({
      pseudonymousProfileDays: 60,
      archiveDestination: "ret-archive",
    });
    const reader = await createKey(["profiles:read", "ingest"]);
    expect(await call("POST", "/v1/maintenance/runs", { key: reader })).toHaveStatus(403);
    expect(await call("GET", "/v1/maintenance/runs", { key: reader })).toHaveStatus(403);
    const device = await call("GET", "/v1/namespaces");
    expect(device.json.items.find((n: any) => n.code === "device").pseudonymous).toBe(true);
    expect(device.json.items.find((n: any) => n.code === "crm").pseudonymous).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { call } from "../helpers";

describe("GET /health", () => {
  it("answers 200 with the applied schema version, without a key", async () => {
    const res = await call("GET", "/health", { key: null });
    expect(res).toHaveStatus(200);
    expect(res.json.status).toBe("ok");
    expect(res.json.schemaVersion).toBeGreaterThanOrEqual(2);
    expect(res.json.latestMigration).toMatch(/^\d{4}_.+\.sql$/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
});

import { describe, expect, it } from "vitest";
import { apiClient } from "../helpers";

describe("GET /health", () => {
  it("answers 200 with the applied schema version, without a key", async () => {
    const res = await apiClient(null).health.$get();
    expect(res).toHaveStatus(200);
    const health = await res.json();
    expect(health.status).toBe("ok");
    expect(health.schemaVersion).toBeGreaterThanOrEqual(2);
    expect(health.latestMigration).toMatch(/^\d{4}_.+\.sql$/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
});

import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, inject, it } from "vitest";

const workerUrl = inject("workerUrl");

describe("API documentation", () => {
  it("serves a valid OpenAPI 3.1 document at /v1/openapi.json", async () => {
    const res = await fetch(`${workerUrl}/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.paths["/v1/keys"].post["x-tessera-scope"]).toBe("admin");
  });

  it("renders a readable reference at /docs", async () => {
    const res = await fetch(`${workerUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const page = await res.text();
    expect(page).toContain("Tessera API");
    expect(page).toContain("/v1/keys");
  });
});

import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ERROR_CODES, ERROR_MEANINGS } from "../../shared/errors";
import { launchChromium } from "./chromium";

const workerUrl = inject("workerUrl");
const METHODS = ["get", "put", "post", "delete", "patch"] as const;

type Json = Record<string, any>;
async function document(): Promise<Json> {
  const res = await fetch(`${workerUrl}/v1/openapi.json`);
  expect(res).toHaveStatus(200);
  return (await res.json()) as Json;
}
function operations(doc: Json): [string, string, Json][] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => (item as Json)[m]).map(
      (m) => [m, path, (item as Json)[m] as Json] as [string, string, Json],
    ),
  );
}

describe("API documentation", () => {
  it("serves a valid OpenAPI 3.1 document at /v1/openapi.json", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.paths["/v1/keys"].post["x-tessera-scope"]).toBe("admin");
    expect(doc.servers).toEqual([{ url: workerUrl, description: "This Tessera deployment" }]);
    expect(doc.info.license).toEqual({ name: "Apache-2.0", identifier: "Apache-2.0" });
  });

  it("passes Redocly's recommended lint with 0 errors", async () => {
    const doc = await document();
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({
      source: JSON.stringify(doc),
      absoluteRef: `${workerUrl}/v1/openapi.json`,
      config,
    });
    const errors = problems
      .filter((p) => p.severity === "error")
      .map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(errors).toEqual([]);
    // Warnings are allowed but printed, so they are seen (the server URL is localhost here).
    const warnings = problems
      .filter((p) => p.severity === "warn")
      .map((p) => `${p.ruleId} at ${p.location[0]?.pointer}`);
    console.log(
      `redocly recommended: 0 errors, ${warnings.length} warnings${warnings.length ? `:\n  ${warnings.join("\n  ")}` : ""}`,
    );
  });

  it("names every operation once, and shows an example request and response for each", async () => {
    const doc = await document();
    const ops = operations(doc);
    const ids = ops.map(([, , op]) => op.operationId);
    expect(ids.filter((id) => typeof id !== "string")).toEqual([]);
    expect(new Set(ids).size).toBe(ops.length);
    console.log(`operations: ${ops.length}, operationIds: ${new Set(ids).size}`);
    const missing: string[] = [];
    for (const [method, path, op] of ops) {
      for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Json)) {
        if ((media as Json).example === undefined)
          missing.push(`${method} ${path} request ${type}`);
      }
      const success = Object.entries(op.responses as Json).filter(
        ([status, r]) => status.startsWith("2") && (r as Json).content,
      );
      for (const [status, response] of success) {
        for (const [type, media] of Object.entries((response as Json).content as Json)) {
          if ((media as Json).example === undefined)
            missing.push(`${method} ${path} ${status} ${type}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("types query parameters, documents attr.<path> filters and lists the closed error codes", async () => {
    const doc = await document();
    const params: Json[] = operations(doc).flatMap(([, path, op]) =>
      ((op.parameters ?? []) as Json[]).map((p) => ({ path, ...p })),
    );
    const param = (path: string, name: string) =>
      params.find((p) => p.path === path && p.name === name);
    expect(param("/v1/profiles", "limit")?.schema.type).toBe("integer");
    expect(param("/v1/events", "atomic")?.schema.type).toBe("boolean");
    expect(param("/v1/profiles/by-identity/{namespace}/{id}", "suppress")?.schema.type).toBe(
      "boolean",
    );
    const search = doc.paths["/v1/profiles"].get;
    expect(search.description).toContain("attr.<path>");
    expect(search["x-tessera-pattern-parameters"][0].pattern).toMatch(/^\^attr/);
    expect(doc.components.schemas.ErrorCode.enum).toEqual(ERROR_CODES);
    // Every code carries its meaning, and the error files' `invalid_row` is one of them.
    expect(Object.keys(doc.components.schemas.ErrorCode["x-enumDescriptions"])).toEqual(
      ERROR_CODES,
    );
    expect(ERROR_CODES).toContain("invalid_row");
    expect(doc.components.schemas.Error.properties.error.properties.code).toEqual({
      $ref: "#/components/schemas/ErrorCode",
    });
    // The ingest bodies are real schemas: one item or a list of them.
    const events = doc.paths["/v1/events"].post.requestBody.content["application/json"].schema;
    expect(events.oneOf[0]).toEqual({ $ref: "#/components/schemas/Event" });
    expect(doc.components.schemas.Event.required).toEqual(["type", "identities"]);
    // The event-type pattern is a real pattern: it matches its own example and refuses a control character.
    const type = doc.components.schemas.Event.properties.type;
    const pattern = new RegExp(type.pattern, "v");
    expect(pattern.test(type.example)).toBe(true);
    expect(pattern.test("Order\u0007Completed")).toBe(false);
  });

  describe("/docs in Chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("shows the example for POST /v1/events and the lookup response body, under its CSP, with no errors", async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      page.on("pageerror", (e) => problems.push(e.message));
      const res = await page.goto(`${workerUrl}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
      await expect(page.title()).resolves.toContain("Tessera API");

      const ingest = page.locator("#ingestEvents");
      await expect(ingest.locator("h3").textContent()).resolves.toContain("/v1/events");
      const requestExample = JSON.parse(
        (await ingest.locator(".media").first().locator("pre.example").textContent()) ?? "",
      );
      expect(requestExample).toMatchObject({
        type: "Order Completed",
        identities: [{ namespace: "email" }],
      });

      const lookup = page.locator("#lookupProfile");
      const body = JSON.parse(
        (await lookup.locator(".responses pre.example").first().textContent()) ?? "",
      );
      expect(body).toMatchObject({
        profileId: expect.any(String),
        identities: expect.any(Array),
        attributes: expect.any(Object),
      });
      // Prose shows code, not raw backticks; the stylesheet loaded under the CSP.
      await expect(lookup.locator("p").first().innerHTML()).resolves.not.toContain("`");
      const styled = await page
        .locator(".method.get")
        .first()
        .evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(styled).toBe("rgb(31, 122, 68)");
      // Each error code has a row, with an anchor, its status and its meaning.
      await expect(page.locator("#error-codes + p + table tbody tr").count()).resolves.toBe(
        ERROR_CODES.length,
      );
      const forbidden = (await page.locator("#error-forbidden").textContent()) ?? "";
      expect(forbidden).toContain("403");
      expect(forbidden).toContain(ERROR_MEANINGS.forbidden);
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});

import { describe, expect, it } from "vitest";
import { call } from "../helpers";

describe("segments: invalid rules", () => {
  it("validates rules with clear errors", async () => {
    const bad = await call("PUT", "/v1/segments/bad", {
      body: { name: "Bad", rule: { all: [{ event: "purchase", within: "a month" }] } },
    });
    expect(bad).toHaveStatus(400);
    expect(bad.json.error.details).toEqual([
      { path: "rule.all[0].within", message: expect.stringContaining("ISO-8601") },
    ]);
    const op = await call("PUT", "/v1/segments/bad", {
      body: { name: "Bad", rule: { attr: "x", op: "resembles", value: 1 } },
    });
    expect(op).toHaveStatus(400);
  });
});

import { describe, expect, it } from "vitest";
import { call, createKey, expectErrorShape } from "../helpers";

describe("error shape", () => {
  it("401 without a key, in the spec's shape", async () => {
    const res = await call("GET", "/v1/keys", { key: null });
    expect(res).toHaveStatus(401);
    expectErrorShape(res.json, "unauthorized");
    expect(res.json.error.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("401 with an unknown key or a malformed header", async () => {
    expect(await call("GET", "/v1/keys", { key: "sk_nope" })).toHaveStatus(401);
    const res = await call("GET", "/v1/keys", {
      key: null,
      headers: { authorization: "Basic abc" },
    });
    expect(res).toHaveStatus(401);
    expectErrorShape(res.json, "unauthorized");
  });

  it("403 with a key that lacks `admin`", async () => {
    const key = await createKey(["ingest", "profiles:read"]);
    const res = await call("GET", "/v1/keys", { key });
    expect(res).toHaveStatus(403);
    expectErrorShape(res.json, "forbidden");
  });

  it("200 with the admin key", async () => {
    expect(await call("GET", "/v1/keys")).toHaveStatus(200);
  });

  it("400 with per-field details for invalid input", async () => {
    const res = await call("POST", "/v1/keys", {
      body: { name: "", kind: "secret", scopes: ["everything"] },
    });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    const paths = res.json.error.details.map((d: any) => d.path);
    expect(paths).toContain("name");
    expect(paths).toContain("scopes[0]");
  });

  it("400 invalid_json for a body that is not JSON", async () => {
    const res = await call("POST", "/v1/keys", { body: "{not json" });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_json");
  });

  it("404 for an unknown route and an unknown key id", async () => {
    const unknownRoute = await call("GET", "/v1/nothing-here");
    expect(unknownRoute).toHaveStatus(404);
    expectErrorShape(unknownRoute.json, "not_found");
    const unknownKey = await call("DELETE", "/v1/keys/key_doesnotexist");
    expect(unknownKey).toHaveStatus(404);
    expectErrorShape(unknownKey.json, "not_found");
  });

  it("413 for a JSON body over the limit", async () => {
    const big = JSON.stringify({ name: "x".repeat(34 * 1024 * 1024) });
    const res = await call("POST", "/v1/keys", { body: big });
    expect(res).toHaveStatus(413);
    expectErrorShape(res.json, "payload_too_large");
  });

  it("415 for a body that is not JSON by content type", async () => {
    const res = await call("POST", "/v1/keys", {
      body: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res).toHaveStatus(415);
    expectErrorShape(res.json, "unsupported_media_type");
  });
});

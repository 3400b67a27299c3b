/**
 * Computed attribute definitions (SPEC §7): every invalid definition is a 400 whose details
 * name the field; at most 50; the admin scope to change them; `computed` is not a dataset.
 */
import { describe, expect, it } from "vitest";
import { call, createKey, expectErrorShape } from "../helpers";

const put = (attributeId: string, body: unknown) =>
  call("PUT", `/v1/computed-attributes/${attributeId}`, { body });

describe("computed attribute definitions", () => {
  it.each([
    ["a sum without a field", { name: "x", aggregate: "sum" }, "field"],
    ["an unknown aggregate", { name: "x", aggregate: "median", field: "data.amount" }, "aggregate"],
    ["a field outside the event's data", { name: "x", aggregate: "max", field: "amount" }, "field"],
    [
      "a window that is not a duration",
      { name: "x", aggregate: "count", within: "30 days" },
      "within",
    ],
    [
      "a filter condition on something other than the event",
      {
        name: "x",
        aggregate: "count",
        filter: { where: [{ attr: "loyalty.tier", op: "eq", value: "gold" }] },
      },
      "filter.where[0].attr",
    ],
    [
      "an event condition inside a filter",
      { name: "x", aggregate: "count", filter: { where: [{ event: "purchase" }] } },
      "filter.where[0]",
    ],
    [
      "an unknown operator",
      {
        name: "x",
        aggregate: "count",
        filter: { where: [{ attr: "data.x", op: "like", value: "a" }] },
      },
      "filter.where[0]",
    ],
    ["an empty type list", { name: "x", aggregate: "count", filter: { type: [] } }, "filter.type"],
    ["an unknown property", { name: "x", aggregate: "count", every: "day" }, ""],
    ["no name", { aggregate: "count" }, "name"],
  ])("%s is a 400 naming the field", async (_, body, path) => {
    const res = await put("bad-def", body);
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details.map((d: any) => d.path).join(" ")).toContain(path);
    expect(await call("GET", "/v1/computed-attributes/bad-def")).toHaveStatus(404);
  });

  it("an id that is not a name is a 400", async () => {
    expect(await put("Has Spaces", { name: "x", aggregate: "count" })).toHaveStatus(400);
  });

  it("at most 50: the 51st is a 400, changing an existing one still works", async () => {
    for (let i = 0; i < 50; i++)
      expect(
        await put(`limit-${i}`, {
          name: `Limit ${i}`,
          aggregate: "count",
          filter: { type: [`t${i}`] },
        }),
      ).toHaveStatus(200);
    const over = await put("limit-50", { name: "One too many", aggregate: "count" });
    expect(over).toHaveStatus(400);
    expect(over.json.error.message).toContain("at most 50");
    expect(over.json.error.details[0].path).toBe("id");
    expect(
      await put("limit-7", { name: "Changed", aggregate: "count", filter: { type: ["t7"] } }),
    ).toHaveStatus(200);
    for (let i = 0; i < 50; i++)
      expect(await call("DELETE", `/v1/computed-attributes/limit-${i}`)).toHaveStatus(200);
  });

  it("changing and deleting need the admin scope; reading needs profiles:read", async () => {
    const reader = await createKey(["profiles:read"]);
    const writer = await createKey(["ingest", "segments"]);
    expect(
      await call("PUT", "/v1/computed-attributes/scoped", {
        key: reader,
        body: { name: "x", aggregate: "count" },
      }),
    ).toHaveStatus(403);
    expect(
      await call("PUT", "/v1/computed-attributes/scoped", {
        key: writer,
        body: { name: "x", aggregate: "count" },
      }),
    ).toHaveStatus(403);
    expect(await put("scoped", { name: "x", aggregate: "count" })).toHaveStatus(200);
    expect(await call("GET", "/v1/computed-attributes/scoped", { key: reader })).toHaveStatus(200);
    expect(await call("GET", "/v1/computed-attributes", { key: writer })).toHaveStatus(403);
    expect(await call("DELETE", "/v1/computed-attributes/scoped", { key: reader })).toHaveStatus(
      403,
    );
    expect(await call("DELETE", "/v1/computed-attributes/scoped")).toHaveStatus(200);
    expect(await call("DELETE", "/v1/computed-attributes/scoped")).toHaveStatus(404);
  });

  it("`computed` cannot be a dataset name", async () => {
    const res = await call("PUT", "/v1/datasets/computed", { body: { kind: "records" } });
    expect(res).toHaveStatus(409);
    expectErrorShape(res.json, "conflict");
  });
});

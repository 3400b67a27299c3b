import { describe, expect, it } from "vitest";
import { call, createKey, id, iso } from "../helpers";

const base = () => ({ type: "page.view", identities: [id("crm", "limit-1")] });
const rejectedCode = async (event: unknown) => {
  const res = await call("POST", "/v1/events", { body: { events: [event] } });
  expect(res).toHaveStatus(200);
  expect(res.json.accepted).toBe(0);
  return res.json.rejected[0].error.code as string;
};

function nested(depth: number): Record<string, unknown> {
  let tree: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) tree = { [`l${i}`]: tree };
  return tree;
}

describe("ingest limits, each with its own error", () => {
  it("more than 1,000 items → 413 too_many_items", async () => {
    const res = await call("POST", "/v1/events", {
      body: { events: Array.from({ length: 1001 }, base) },
    });
    expect(res).toHaveStatus(413);
    expect(res.json.error.code).toBe("too_many_items");
  });

  it("more than 50 identities in one item → too_many_identities", async () => {
    const identities = Array.from({ length: 51 }, (_, i) =>
      id("device", `many-identities-${String(i).padStart(4, "0")}`),
    );
    expect(await rejectedCode({ ...base(), identities })).toBe("too_many_identities");
    const fifty = identities.slice(0, 50);
    const ok = await call("POST", "/v1/events", { body: { ...base(), identities: fifty } });
    expect(ok.json.accepted).toBe(1);
  });

  it("attribute depth over 8 → attribute_too_deep (8 is fine)", async () => {
    expect(await rejectedCode({ ...base(), data: nested(9) })).toBe("attribute_too_deep");
    const res = await call("POST", "/v1/records", {
      body: { dataset: "default", identities: [id("crm", "deep")], attributes: nested(9) },
    });
    expect(res.json.rejected[0].error.code).toBe("attribute_too_deep");
    const ok = await call("POST", "/v1/events", { body: { ...base(), data: nested(8) } });
    expect(ok.json.accepted).toBe(1);
  });

  it("an item over 32 KB → item_too_large", async () => {
    expect(await rejectedCode({ ...base(), data: { blob: "x".repeat(33 * 1024) } })).toBe(
      "item_too_large",
    );
  });

  it("timestamps outside 1970…now+1 day → invalid_timestamp", async () => {
    expect(await rejectedCode({ ...base(), timestamp: "1969-12-31T23:59:59Z" })).toBe(
      "invalid_timestamp",
    );
    expect(await rejectedCode({ ...base(), timestamp: iso(Date.now() + 2 * 24 * 3600_000) })).toBe(
      "invalid_timestamp",
    );
    expect(await rejectedCode({ ...base(), timestamp: "yesterday" })).toBe("invalid_timestamp");
  });

  it("names outside [a-z][a-z0-9_-]{0,63} → invalid_name", async () => {
    expect(await rejectedCode({ ...base(), dataset: "Bad Name" })).toBe("invalid_name");
    expect(await rejectedCode({ ...base(), identities: [id("Email", "a@b.com")] })).toBe(
      "invalid_name",
    );
    const put = await call("PUT", "/v1/datasets/Nope", { body: { kind: "records" } });
    expect(put).toHaveStatus(400);
    expect(put.json.error.code).toBe("invalid_request");
  });

  it("a body over the JSON limit → 413; not JSON → 415; not an object list → 400", async () => {
    const big = await call("POST", "/v1/events", {
      body: JSON.stringify({ events: [], pad: "x".repeat(34 * 1024 * 1024) }),
    });
    expect(big).toHaveStatus(413);
    expect(big.json.error.code).toBe("payload_too_large");
    const text = await call("POST", "/v1/events", {
      body: "type=page.view",
      headers: { "content-type": "text/csv" },
    });
    expect(text).toHaveStatus(415);
    expect(text.json.error.code).toBe("unsupported_media_type");
    const notList = await call("POST", "/v1/events", { body: { events: "nope" } });
    expect(notList).toHaveStatus(400);
  });

  it("needs the ingest scope", async () => {
    const key = await createKey(["profiles:read"]);
    const res = await call("POST", "/v1/events", { key, body: base() });
    expect(res).toHaveStatus(403);
    const ingestKey = await createKey(["ingest"]);
    expect(await call("POST", "/v1/events", { key: ingestKey, body: base() })).toHaveStatus(200);
  });
});

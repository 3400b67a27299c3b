/**
 * Unknown fields are errors, not silence (SPEC §2): a misspelled item field, an unknown
 * top-level key, a query parameter the route does not define, and a CSV header that looks
 * like a misspelled identity column are each refused, naming the field and the one it
 * probably meant — and nothing is written because of them.
 */
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, id, postEvents, uploadFile, waitForBatch } from "../helpers";

const lookup = (ns: string, value: string) =>
  call("GET", `/v1/profiles/by-identity/${ns}/${encodeURIComponent(value)}?include=events`);

describe("misspelled item fields", () => {
  it("an event with `dat` is rejected, naming `data`; the good event beside it is kept", async () => {
    const res = await call("POST", "/v1/events", {
      body: {
        events: [
          { type: "x", identities: [id("crm", "strict-dat")], dat: { amount: 5 } },
          { type: "x", identities: [id("crm", "strict-ok")], data: { amount: 5 } },
        ],
      },
    });
    expect(res).toHaveStatus(200);
    expect(res.json.accepted).toBe(1);
    expect(res.json.rejected).toEqual([
      {
        index: 0,
        error: {
          code: "invalid_request",
          message: expect.stringContaining('did you mean "data"?'),
          details: [{ path: "dat", message: expect.stringContaining('"dat"') }],
        },
      },
    ]);
    expect(await lookup("crm", "strict-dat")).toHaveStatus(404);
  });

  it("a record with `atributes` and an identity with `nmespace` are rejected the same way", async () => {
    const res = await call("POST", "/v1/records", {
      body: {
        records: [
          {
            dataset: "default",
            identities: [id("crm", "strict-rec")],
            atributes: { tier: "gold" },
          },
          {
            dataset: "default",
            identities: [{ nmespace: "crm", namespace: "crm", id: "strict-ns" }],
            attributes: { tier: "gold" },
          },
        ],
      },
    });
    expect(
      res.json.rejected.map((r: any) => [r.index, r.error.code, r.error.details[0].path]),
    ).toEqual([
      [0, "invalid_request", "atributes"],
      [1, "invalid_request", "identities[0].nmespace"],
    ]);
    expect(res.json.rejected[0].error.message).toContain('did you mean "attributes"?');
    expect(res.json.rejected[1].error.message).toContain('did you mean "namespace"?');
  });

  it("a list body with another top-level key is a 400, and nothing of it is stored", async () => {
    const res = await call("POST", "/v1/events", {
      body: { events: [{ type: "x", identities: [id("crm", "strict-top")] }], atomic: true },
    });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0].path).toBe("atomic");
    expect(await lookup("crm", "strict-top")).toHaveStatus(404);
  });
});

describe("query parameters a route does not define", () => {
  it("?dry_run=true on /v1/events is a 400 naming the parameter it probably meant, and stores nothing", async () => {
    const res = await call("POST", "/v1/events?dry_run=true", {
      body: { type: "x", identities: [id("crm", "strict-dry")] },
    });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0].path).toBe("query.dry_run");
    expect(res.json.error.details[0].message).toContain('unknown query parameter "dry_run"');
    expect(await lookup("crm", "strict-dry")).toHaveStatus(404);
  });

  it("?previews=true on PUT /v1/namespaces/:code is a 400 and saves nothing", async () => {
    const res = await call("PUT", "/v1/namespaces/strictns?previews=true", {
      body: { normalize: "lowercase", unique: false, priority: 5 },
    });
    expect(res).toHaveStatus(400);
    const list = await call("GET", "/v1/namespaces");
    expect(list.json.items.map((n: any) => n.code)).not.toContain("strictns");
  });

  it("a misspelled parameter names the one it probably meant; declared ones and attr.<path> still work", async () => {
    const res = await call("GET", "/v1/profiles?limt=5");
    expect(res).toHaveStatus(400);
    expect(res.json.error.details[0]).toEqual({
      path: "query.limt",
      message: 'unknown query parameter "limt"; did you mean "limit"?',
    });
    await postEvents([{ type: "x", identities: [id("crm", "strict-search")] }]);
    expect(
      await call("GET", "/v1/profiles?q=strict-search&limit=5&attr.loyalty.tier=gold"),
    ).toHaveStatus(200);
    expect(await call("GET", "/v1/namespaces?x=1")).toHaveStatus(400);
  });
});

describe("CSV headers", () => {
  it("a misspelled identity column fails the batch before any row, naming the column", async () => {
    for (const [column, hint] of [
      ["identiy.email", 'did you mean "identity.email"?'],
      ["identity.emial", 'did you mean "identity.email"?'],
    ]) {
      const batchId = (
        await uploadFile(
          `identity.crm,${column},firstName\nSTRICT-CSV-1,a@example.com,Ann\n`,
          "dataset=default&format=csv",
        )
      ).json.batchId;
      const done = await waitForBatch(batchId);
      expect(done.status).toBe("failed");
      expect(done.error).toContain(`"${column}"`);
      expect(done.error).toContain(hint);
      expect(done.rows).toEqual({ total: 0, ingested: 0, failed: 0 });
    }
    expect(await lookup("crm", "STRICT-CSV-1")).toHaveStatus(404);
  });

  it("an NDJSON file of events sent to a records dataset is one wrong_dataset_kind, not a failure per row", async () => {
    expect(
      await call("PUT", "/v1/datasets/strict-crm", { body: { kind: "records" } }),
    ).toHaveStatus(200);
    expect(await call("PUT", "/v1/datasets/strict-web", { body: { kind: "events" } })).toHaveStatus(
      200,
    );
    const events = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        type: "Order Completed",
        identities: [{ namespace: "crm", id: `STRICT-K-${i}` }],
        data: { i },
      }),
    ).join("\n");
    const intoRecords = await waitForBatch(
      (await uploadFile(`${events}\n`, "dataset=strict-crm&format=ndjson", "application/x-ndjson"))
        .json.batchId,
    );
    expect(intoRecords).toMatchObject({
      status: "failed",
      rows: { total: 0, ingested: 0, failed: 0 },
    });
    expect(intoRecords.error).toMatch(/^wrong_dataset_kind: this dataset holds records/);
    const records = JSON.stringify({
      identities: [{ namespace: "crm", id: "STRICT-K-R" }],
      attributes: { tier: "gold" },
    });
    const intoEvents = await waitForBatch(
      (await uploadFile(`${records}\n`, "dataset=strict-web&format=ndjson", "application/x-ndjson"))
        .json.batchId,
    );
    expect(intoEvents.error).toMatch(/^wrong_dataset_kind: this dataset holds events/);
    expect(await lookup("crm", "STRICT-K-0")).toHaveStatus(404);
  });

  it("a good batch lists what each column became", async () => {
    const batchId = (
      await uploadFile(
        "identity.crm,identity.email,timestamp,loyalty.tier\nSTRICT-CSV-2,b@example.com,2026-01-01T00:00:00Z,gold\n",
        "dataset=default&format=csv",
      )
    ).json.batchId;
    const done = await waitForBatch(batchId);
    expect(done.status).toBe("completed");
    expect(done.columns).toEqual({
      identities: ["identity.crm", "identity.email"],
      fields: ["timestamp"],
      attributes: ["loyalty.tier"],
    });
  });
});

describe("validation errors name the one fix", () => {
  it("a file destination without `schedule` says so, not `Invalid input` at the root", async () => {
    const res = await call("PUT", "/v1/destinations/strict-lake", {
      body: { type: "r2", prefix: "lake/" },
    });
    expect(res).toHaveStatus(400);
    expect(res.json.error.details.map((d: any) => d.path)).toEqual(["schedule"]);
  });

  it("an unknown destination type lists the types there are", async () => {
    const res = await call("PUT", "/v1/destinations/strict-ftp", {
      body: { type: "ftp", prefix: "lake/", schedule: "daily" },
    });
    expect(res).toHaveStatus(400);
    expect(res.json.error.details).toEqual([
      { path: "type", message: expect.stringMatching(/^expected one of .*"r2".*"webhook"/) },
    ]);
  });

  it("a segment rule with a misspelled operator points at the operator only", async () => {
    const res = await call("PUT", "/v1/segments/strict-typo", {
      body: { name: "Typo", rule: { attr: "tier", op: "eqq", value: "gold" } },
    });
    expect(res).toHaveStatus(400);
    expect(res.json.error.details).toHaveLength(1);
    expect(res.json.error.details[0].path).toBe("rule.op");
  });
});

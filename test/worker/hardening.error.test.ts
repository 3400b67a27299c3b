/**
 * Regression tests for the hostile inputs found from outside (issue 13): each one broke
 * the service, lost good data or changed data silently. Every test goes through the
 * Worker's public entry points (HTTP, the queue consumer, the cron handler).
 */
import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import {
  batchErrors,
  call,
  expectErrorShape,
  id,
  postEvents,
  postRecords,
  storeBatchWithoutMessage,
  uploadFile,
  waitForBatch,
} from "../helpers";

/** Runs the Worker's Cron Trigger handler, as Cloudflare would every 5 minutes. */
async function runCron() {
  await worker.scheduled(
    createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }),
    env,
  );
}

const send = (
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
) => call("POST", path, { body, headers });

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
}

async function uploadCsv(csv: string, dataset = "default") {
  const res = await uploadFile(csv, `dataset=${dataset}&format=csv`);
  expect(res).toHaveStatus(202);
  return res.json.batchId as string;
}

const lookup = (ns: string, value: string) =>
  call("GET", `/v1/profiles/by-identity/${ns}/${encodeURIComponent(value)}`);

describe("1. prototype keys from a CSV header", () => {
  it("a __proto__.note column is a rejected row, not a write onto Object.prototype; the service keeps answering", async () => {
    const batchId = await uploadCsv(
      "identity.crm,__proto__.note,note\nrepro-csv,x,kept\nrepro-csv-2,,also kept\n",
    );
    const done = await waitForBatch(batchId);
    expect(done.status).toBe("completed");
    expect(done.rows).toEqual({ total: 2, ingested: 1, failed: 1 });
    const [error] = await batchErrors(batchId);
    expect(error.line).toBe(2);
    expect(error.error.code).toBe("invalid_attribute");
    expect(({} as Record<string, unknown>).note).toBeUndefined();

    // Valid JSON requests still work, and `note` is an ordinary attribute everywhere.
    expect(
      (
        await postRecords([
          {
            dataset: "default",
            identities: [id("crm", "after-proto")],
            attributes: { note: "hello" },
          },
        ])
      ).accepted,
    ).toBe(1);
    expect((await lookup("crm", "after-proto")).json.attributes).toEqual({ note: "hello" });
    expect((await lookup("crm", "repro-csv-2")).json.attributes).toEqual({ note: "also kept" });
  });
});

describe("2. deeply nested arrays", () => {
  const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);

  it("an item nested 1,000 deep is rejected on its own; the good item beside it is stored", async () => {
    const res = await call("POST", "/v1/events", {
      body: {
        events: [
          { type: "deep", identities: [id("crm", "deep-1")], data: { a: deep(1000) } },
          { type: "fine", identities: [id("crm", "deep-2")], data: { a: [[1, 2], [3]] } },
        ],
      },
    });
    expect(res).toHaveStatus(200);
    expect(res.json.accepted).toBe(1);
    expect(res.json.rejected).toHaveLength(1);
    expect(res.json.rejected[0]).toMatchObject({ index: 0, error: { code: "attribute_too_deep" } });
  });

  it("arrays count toward the depth of 8", async () => {
    const nestedArrays = (n: number): unknown => (n === 1 ? [1] : [nestedArrays(n - 1)]);
    const result = await postRecords([
      { dataset: "default", identities: [id("crm", "arr-8")], attributes: { a: nestedArrays(7) } }, // depth 8
      { dataset: "default", identities: [id("crm", "arr-9")], attributes: { a: nestedArrays(8) } }, // depth 9
    ]);
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.error.code])).toEqual([
      [1, "attribute_too_deep"],
    ]);
  });

  it("in a batch file, the deep row is that row's error and the good rows are kept", async () => {
    await call("PUT", "/v1/datasets/deep-file", { body: { kind: "events" } });
    const lines = [
      JSON.stringify({ type: "ok", identities: [id("crm", "deep-file-1")] }),
      JSON.stringify({
        type: "deep",
        identities: [id("crm", "deep-file-2")],
        data: { a: deep(1000) },
      }),
      JSON.stringify({ type: "ok", identities: [id("crm", "deep-file-3")] }),
    ];
    const body = lines.join("\n") + "\n";
    const res = await send("/v1/batches?dataset=deep-file&format=ndjson", body, {
      "content-type": "application/x-ndjson",
      "content-length": String(body.length),
    });
    const done = await waitForBatch(res.json.batchId);
    expect(done).toMatchObject({ status: "completed", rows: { total: 3, ingested: 2, failed: 1 } });
    expect((await batchErrors(res.json.batchId)).map((e) => [e.line, e.error.code])).toEqual([
      [2, "attribute_too_deep"],
    ]);
  });
});

describe("3. lone surrogates and invisible characters", () => {
  it("an identity with a lone surrogate is rejected, every time, and the good items are kept", async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await call("POST", "/v1/events", {
        body: {
          events: [
            { type: "x", identities: [id("crm", "sur\ud800-1")] },
            { type: "x", identities: [id("crm", `sur-good-${attempt}`)] },
          ],
        },
      });
      expect(res).toHaveStatus(200);
      expect(res.json.accepted).toBe(1);
      expect(res.json.rejected[0]).toMatchObject({ index: 0, error: { code: "invalid_identity" } });
    }
    // Nothing was stored under the U+FFFD spelling either.
    expect(await lookup("crm", "sur\ufffd-1")).toHaveStatus(404);
  });

  it("invalid UTF-8 bytes in a body are a 400, not U+FFFD stored in their place", async () => {
    const before = new TextEncoder().encode(
      '{"type":"x","identities":[{"namespace":"crm","id":"utf8-bad-',
    );
    const after = new TextEncoder().encode('"}]}');
    const body = new Uint8Array([...before, 0xff, 0xfe, ...after]);
    for (const path of ["/v1/events", "/v1/records", "/v1/track"]) {
      const res = await call("POST", path, {
        body,
        headers: { "content-type": "application/json" },
      });
      expect(res).toHaveStatus(400);
      expectErrorShape(res.json, "invalid_json");
    }
    expect(await lookup("crm", "utf8-bad-\ufffd\ufffd")).toHaveStatus(404);
  });

  it("control and invisible formatting characters in ids, attribute text and event types are rejected", async () => {
    const result = await postEvents([
      { type: "x", identities: [id("crm", "zero\u200bwidth")] },
      { type: "x", identities: [id("crm", "bell\u0007")] },
      { type: "tab\there", identities: [id("crm", "ctl-type")] },
      { type: "x", identities: [id("crm", "bad-text")], data: { note: "a\udc00b" } },
      { type: "x", identities: [id("crm", "bad-key")], data: { ["k\ud800"]: 1 } },
      { type: "Order Completed", identities: [id("crm", " trimmed-id ")] },
    ]);
    expect(result.rejected.map((r) => [r.index, r.error.code])).toEqual([
      [0, "invalid_identity"],
      [1, "invalid_identity"],
      [2, "invalid_request"],
      [3, "invalid_attribute"],
      [4, "invalid_attribute"],
    ]);
    expect(result.accepted).toBe(1);
  });
});

describe("4. batches stalled by a crash are resumed", () => {
  it("a batch whose queue message was lost mid-way completes after the cron sweep, with exact counts", async () => {
    const batchId = "bat_crash_resume_test";
    // As after a crash: the file is stored, the batch is `processing`, and no message is in flight.
    await storeBatchWithoutMessage(
      batchId,
      "crash-file",
      "processing",
      Date.now() - 10 * 60_000,
      "CR",
    );

    await runCron();
    const done = await waitForBatch(batchId);
    expect(done.status).toBe("completed");
    expect(done.rows).toEqual({ total: 2500, ingested: 2475, failed: 25 });
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events WHERE dataset = 'crash-file'",
    ).first<{ n: number; d: number }>();
    expect(stored).toEqual({ n: 2475, d: 2475 });
  });

  it("a fresh batch is left alone by the sweep (it is not stalled)", async () => {
    const batchId = await uploadCsv("identity.crm,plan\nfresh-1,a\n");
    await runCron();
    expect((await waitForBatch(batchId)).rows).toEqual({ total: 1, ingested: 1, failed: 0 });
  });
});

describe("5. a header-only CSV", () => {
  it("completes with 0 rows", async () => {
    const done = await waitForBatch(await uploadCsv("identity.crm,plan\n"));
    expect(done).toMatchObject({ status: "completed", rows: { total: 0, ingested: 0, failed: 0 } });
    const noNewline = await waitForBatch(await uploadCsv("identity.crm,plan"));
    expect(noNewline).toMatchObject({
      status: "completed",
      rows: { total: 0, ingested: 0, failed: 0 },
    });
  });
});

describe("6. nothing changes silently", () => {
  it("toString, valueOf, hasOwnProperty are ordinary attributes", async () => {
    const attributes = {
      toString: "a",
      valueOf: 2,
      hasOwnProperty: true,
      nested: { toString: "b", isPrototypeOf: [1] },
    };
    expect(
      (
        await postRecords([
          { dataset: "default", identities: [id("crm", "builtin-names")], attributes },
        ])
      ).accepted,
    ).toBe(1);
    const profile = await call(
      "GET",
      "/v1/profiles/by-identity/crm/builtin-names?include=provenance",
    );
    expect(profile.json.attributes).toEqual(attributes);
    expect(Object.keys(profile.json.provenance).sort()).toEqual([
      "hasOwnProperty",
      "nested.isPrototypeOf",
      "nested.toString",
      "toString",
      "valueOf",
    ]);
  });

  it("__proto__, constructor and prototype keys are rejected as invalid_attribute", async () => {
    const body = `{"records":[
      {"dataset":"default","identities":[{"namespace":"crm","id":"proto-1"}],"attributes":{"__proto__":{"admin":true}}},
      {"dataset":"default","identities":[{"namespace":"crm","id":"proto-2"}],"attributes":{"a":{"constructor":{"prototype":{"x":1}}}}},
      {"dataset":"default","identities":[{"namespace":"crm","id":"proto-3"}],"attributes":{"prototype":1}},
      {"dataset":"default","identities":[{"namespace":"crm","id":"proto-4"}],"attributes":{"fine":1}}
    ]}`;
    const res = await call("POST", "/v1/records", { body });
    expect(res).toHaveStatus(200);
    expect(
      res.json.rejected.map((r: any) => [r.index, r.error.code, r.error.details[0].path]),
    ).toEqual([
      [0, "invalid_attribute", "attributes.__proto__"],
      [1, "invalid_attribute", "attributes.a.constructor"],
      [2, "invalid_attribute", "attributes.prototype"],
    ]);
    expect(res.json.accepted).toBe(1);
    expect(await lookup("crm", "proto-1")).toHaveStatus(404);
  });

  it("numbers that cannot be stored as sent are rejected; exact ones are kept as sent", async () => {
    const event = (n: string, value: string) =>
      `{"type":"n","identities":[{"namespace":"crm","id":"num-${n}"}],"data":{"v":${value}}}`;
    const body = `{"events":[${[
      event("inf", "1e309"),
      event("tiny", "1e-400"),
      event("big", "18446744073709551617"),
      event("long", "0.10000000000000000001"),
      event("negzero", "-0.0"),
      event("ok1", "0.1"),
      event("ok2", "1.5e3"),
      event("ok3", "9007199254740991"),
      event("ok4", "-0.30000000000000004"),
    ].join(",")}]}`;
    const res = await call("POST", "/v1/events", { body });
    expect(res).toHaveStatus(200);
    expect(res.json.rejected.map((r: any) => [r.index, r.error.code])).toEqual([
      [0, "invalid_number"],
      [1, "invalid_number"],
      [2, "invalid_number"],
      [3, "invalid_number"],
      [4, "invalid_number"],
    ]);
    expect(res.json.accepted).toBe(4);
    const events = await call("GET", `/v1/profiles/by-identity/crm/num-ok4?include=events`);
    expect(events.json.events[0].data).toEqual({ v: -0.30000000000000004 });
  });

  it("a CSV number column that a double cannot hold stays a string for the schema to judge", async () => {
    await call("PUT", "/v1/datasets/num-file", {
      body: { kind: "records", schema: { type: "object", properties: { n: { type: "integer" } } } },
    });
    const batchId = await uploadCsv(
      "identity.crm,n\nnum-csv-1,18446744073709551617\nnum-csv-2,42\n",
      "num-file",
    );
    const done = await waitForBatch(batchId);
    expect(done.rows).toEqual({ total: 2, ingested: 1, failed: 1 });
    expect((await batchErrors(batchId))[0].error.code).toBe("schema_violation");
  });
});

describe("7. non-Latin-1 ids in cursors", () => {
  it("pages a timeline whose event ids are Japanese", async () => {
    await postEvents([
      {
        id: "注文-0001",
        type: "purchase",
        timestamp: "2026-01-01T00:00:00Z",
        identities: [id("crm", "cursor-ja")],
      },
      {
        id: "注文-0002",
        type: "purchase",
        timestamp: "2026-01-02T00:00:00Z",
        identities: [id("crm", "cursor-ja")],
      },
    ]);
    const profileId = (await lookup("crm", "cursor-ja")).json.profileId;
    const first = await call("GET", `/v1/profiles/${profileId}/events?limit=1`);
    expect(first).toHaveStatus(200);
    expect(first.json.items[0].id).toBe("注文-0002");
    const second = await call(
      "GET",
      `/v1/profiles/${profileId}/events?limit=1&cursor=${first.json.nextCursor}`,
    );
    expect(second.json.items.map((e: any) => e.id)).toEqual(["注文-0001"]);
    for (const garbage of ["%%%", "6Kqe", "not-base64!", "eyJ4Ijox"]) {
      const bad = await call(
        "GET",
        `/v1/profiles/${profileId}/events?cursor=${encodeURIComponent(garbage)}`,
      );
      expect(bad).toHaveStatus(400);
      expectErrorShape(bad.json, "invalid_request");
    }
  });
});

describe("8. gzip bodies", () => {
  it("events, records and batch files are read gzip-encoded", async () => {
    const events = await gzip(
      JSON.stringify({ events: [{ type: "gz", identities: [id("crm", "gzip-1")] }] }),
    );
    const res = await send("/v1/events", events, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res).toHaveStatus(200);
    expect(res.json.accepted).toBe(1);

    const records = await gzip(
      JSON.stringify({
        dataset: "default",
        identities: [id("crm", "gzip-1")],
        attributes: { plan: "gz" },
      }),
    );
    expect(
      (
        await send("/v1/records", records, {
          "content-type": "application/json",
          "content-encoding": "gzip",
        })
      ).json.accepted,
    ).toBe(1);
    expect((await lookup("crm", "gzip-1")).json.attributes).toEqual({ plan: "gz" });

    const csv =
      "identity.crm,plan\n" +
      Array.from({ length: 300 }, (_, i) => `gzip-file-${i},p${i}`).join("\n") +
      "\n";
    const file = await gzip(csv);
    const upload = await send("/v1/batches?dataset=default&format=csv", file, {
      "content-type": "text/csv",
      "content-encoding": "gzip",
      "content-length": String(file.length),
    });
    expect(upload).toHaveStatus(202);
    const done = await waitForBatch(upload.json.batchId);
    expect(done).toMatchObject({
      status: "completed",
      bytes: new TextEncoder().encode(csv).length,
      rows: { total: 300, ingested: 300, failed: 0 },
    });
  });

  it("a body that is not gzip, or an unknown encoding, gets a clear 4xx", async () => {
    const bad = await send("/v1/events", "not gzip at all", {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(bad).toHaveStatus(400);
    expectErrorShape(bad.json, "invalid_request");
    const br = await send("/v1/events", "{}", {
      "content-type": "application/json",
      "content-encoding": "br",
    });
    expect(br).toHaveStatus(415);
    expectErrorShape(br.json, "unsupported_media_type");
  });
});

describe("9. admin block-list patterns run in linear time", () => {
  it("a catastrophic-backtracking pattern cannot stall ingestion; unsupported syntax is refused", async () => {
    const put = await call("PUT", "/v1/namespaces/member", {
      body: {
        normalize: "trim",
        unique: false,
        priority: 20,
        blockedValues: ["/^(a+)+$/", "/^test-/i"],
      },
    });
    expect(put).toHaveStatus(200);
    // 60 characters: a backtracking engine needs ~2^60 steps here; RE2 answers at once.
    const evil = "a".repeat(59) + "b";
    const result = await postEvents([
      { type: "x", identities: [id("member", evil)] },
      { type: "x", identities: [id("member", "a".repeat(40))] },
      { type: "x", identities: [id("member", "TEST-1")] },
    ]);
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.error.code])).toEqual([
      [1, "blocked_identity"],
      [2, "blocked_identity"],
    ]);
    const backreference = await call("PUT", "/v1/namespaces/member2", {
      body: { normalize: "trim", unique: false, priority: 20, blockedValues: ["/(a)\\1/"] },
    });
    expect(backreference).toHaveStatus(400);
    expect(backreference.json.error.details[0].path).toBe("blockedValues[0]");
  });
});

describe("10. the OpenAPI document lists what the server answers", () => {
  it("PUT /v1/datasets/{name} documents 409; limits are integers and a bad one is a documented 400", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).json;
    expect(Object.keys(doc.paths["/v1/datasets/{name}"].put.responses)).toContain("409");
    expect(await call("PUT", "/v1/datasets/default", { body: { kind: "records" } })).toHaveStatus(
      409,
    );

    let limits = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const param of op.parameters ?? []) {
          if (param.in === "query" && /(^|\.)limit$/.test(param.name)) {
            limits++;
            expect(param.schema.type, `${method} ${path} ${param.name}`).toBe("integer");
            expect(Object.keys(op.responses), `${method} ${path}`).toContain("400");
          }
        }
      }
    }
    expect(limits).toBeGreaterThanOrEqual(6);
    const bad = await call("GET", "/v1/profiles?limit=0");
    expect(bad).toHaveStatus(400);
    expect(bad.json.error.details[0].path).toBe("limit");
  });
});

describe("4b. export runs and segment evaluations stalled by a crash are resumed", () => {
  it("an export run left `running` with no message completes after the cron sweep", async () => {
    await postRecords([
      { dataset: "default", identities: [id("crm", "resume-export-1")], attributes: { a: 1 } },
    ]);
    expect(
      await call("PUT", "/v1/destinations/resume-r2", {
        body: { type: "r2", prefix: "resume/", schedule: "manual", includeNoConsent: true },
      }),
    ).toHaveStatus(200);
    const old = Date.now() - 10 * 60_000;
    await env.DB.prepare(
      "INSERT INTO destination_runs (id, destination, status, trigger, profiles, parts, cursor, error, started_at, updated_at) VALUES ('run_resume', 'resume-r2', 'running', 'manual', 0, '[]', NULL, NULL, ?1, ?1)",
    )
      .bind(old)
      .run();
    await runCron();
    for (let i = 0; i < 200; i++) {
      const run = (await call("GET", "/v1/destinations/resume-r2/runs")).json.items.find(
        (r: any) => r.runId === "run_resume",
      );
      if (run.status === "completed") {
        expect(run.profiles).toBeGreaterThan(0);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the stalled export run did not complete");
  });

  it("a segment evaluation left `evaluating` resumes where it stopped", async () => {
    await postRecords(
      Array.from({ length: 30 }, (_, i) => ({
        dataset: "default",
        identities: [id("crm", `resume-seg-${i}`)],
        attributes: { resumeTier: "gold" },
      })),
    );
    expect(
      await call("PUT", "/v1/segments/resume-gold", {
        body: { name: "resume", rule: { attr: "resumeTier", op: "eq", value: "gold" } },
      }),
    ).toHaveStatus(200);
    const ready = async () => (await call("GET", "/v1/segments/resume-gold")).json;
    for (let i = 0; i < 200 && (await ready()).status !== "ready"; i++)
      await new Promise((r) => setTimeout(r, 50));
    const size = (await ready()).size;
    expect(size).toBe(30);
    // As after a crash mid-way: the evaluation is marked in progress and no job is queued.
    await env.DB.prepare(
      "UPDATE segments SET status = 'evaluating', evaluated_profiles = 0, evaluate_after = NULL, updated_at = ?1 WHERE id = 'resume-gold'",
    )
      .bind(Date.now() - 10 * 60_000)
      .run();
    await runCron();
    for (let i = 0; i < 200 && (await ready()).status !== "ready"; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await ready()).toMatchObject({ status: "ready", size: 30 });
  });
});

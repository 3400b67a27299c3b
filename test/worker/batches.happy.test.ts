import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type BatchMessage, processBatchChunk } from "../../worker/batches/process";
import {
  api,
  batchErrors,
  putDataset,
  send,
  storeBatchWithoutMessage,
  uploadFile,
  waitForBatch,
} from "../helpers";

describe("batch files", () => {
  it("ingests a CSV with BOM, quoted fields, embedded commas and newlines; lists bad rows by line", async () => {
    await putDataset("crm-file", {
      kind: "records",
      schema: {
        type: "object",
        properties: {
          loyalty: { type: "object", properties: { points: { type: "integer" } } },
        },
      },
    });
    const csv =
      "\uFEFFidentity.crm,identity.email,firstName,address.city,loyalty.points,note\r\n" +
      'C-1,c1@example.com,"Greene, John",Amsterdam,10,"said ""hi"""\r\n' +
      'C-2,c2@example.com,Ann,"Utrecht",20,"two\nlines"\r\n' +
      "C-3,not-an-email,Bob,Delft,30,x\r\n" + // line 5: bad e-mail
      'C-4,c4@example.com,"broken,quote,Leiden,40,x\r\n' + // line 6: broken quoting swallows the rest
      "";
    const { status, json } = await uploadFile(csv, "dataset=crm-file&format=csv");
    expect(status).toBe(202);
    expect(json.batchId).toMatch(/^bat_/);
    const done = await waitForBatch(json.batchId);
    expect(done.status).toBe("completed");
    expect(done.rows).toEqual({ total: 4, ingested: 2, failed: 2 });
    const errors = await batchErrors(json.batchId);
    expect(errors.map((e) => e.line)).toEqual([5, 6]);
    expect(errors[0].error.code).toBe("invalid_identity");

    const row = await env.DB.prepare(
      "SELECT f.attributes FROM fragments f JOIN identities i ON i.id = f.identity_id WHERE i.value = 'C-1' AND f.dataset = 'crm-file'",
    ).first<{ attributes: string }>();
    expect(JSON.parse(row!.attributes)).toEqual({
      firstName: "Greene, John",
      address: { city: "Amsterdam" },
      loyalty: { points: 10 },
      note: 'said "hi"',
    });
    const two = await env.DB.prepare(
      "SELECT f.attributes FROM fragments f JOIN identities i ON i.id = f.identity_id WHERE i.value = 'C-2'",
    ).first<{ attributes: string }>();
    expect(JSON.parse(two!.attributes).note).toBe("two\nlines");
  });

  it("ingests NDJSON events with stable ids per line; a second upload of the same file adds nothing", async () => {
    await putDataset("web-file", { kind: "events" });
    const lines = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({
        type: "page.view",
        identities: [{ namespace: "device", id: `ndjson-device-${String(i).padStart(8, "0")}` }],
        data: { i },
      }),
    );
    lines.splice(10, 0, "{not json");
    const body = lines.join("\n") + "\n";
    const first = await uploadFile(body, "dataset=web-file&format=ndjson", "application/x-ndjson");
    const done = await waitForBatch(first.json.batchId);
    expect(done.rows).toEqual({ total: 31, ingested: 30, failed: 1 });
    expect((await batchErrors(first.json.batchId)).map((e) => e.line)).toEqual([11]);
    const events = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE dataset = 'web-file'",
    ).first<{ n: number }>();
    expect(events!.n).toBe(30);
  });

  it("a consumer that throws mid-batch is retried by the queue and ends with exact counts, no duplicates", async () => {
    const batchId = "bat_fault_injection_test";
    await storeBatchWithoutMessage(batchId, "big-file", "queued", Date.now(), "R");

    // The first attempt ingests chunk 0 and dies before recording it.
    const first: BatchMessage = { batchId, chunk: 0, offset: 0, line: 1 };
    await expect(
      processBatchChunk(env, first, {
        afterIngest: () => {
          throw new Error("killed mid-batch");
        },
      }),
    ).rejects.toThrow("killed");
    const midway = await send(api.v1.batches[":id"].$get({ param: { id: batchId } }));
    expect(midway.json.rows.total).toBe(0);

    // The queue redelivers the message; processing resumes and completes.
    await env.BATCH_QUEUE.send(first);
    const done = await waitForBatch(batchId);
    expect(done.status).toBe("completed");
    expect(done.rows).toEqual({ total: 2500, ingested: 2475, failed: 25 });
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events WHERE dataset = 'big-file'",
    ).first<{ n: number; d: number }>();
    expect(stored).toEqual({ n: 2475, d: 2475 });
    const errors = await batchErrors(batchId);
    expect(errors).toHaveLength(25);
    expect(errors[0].line).toBe(9); // row i=7 is on line 9 (header is line 1)
  });
});

import { describe, expect, it } from "vitest";
import { parseCsvChunk, parseCsvHeader, parseNdjsonChunk } from "../../worker/batches/parse";
import { csvRowToItem } from "../../worker/batches/rows";

const encoder = new TextEncoder();

describe("CSV chunk parsing", () => {
  const file =
    "\uFEFFidentity.crm,identity.email,firstName,address.city,loyalty.points,note\r\n" +
    'C-1,c1@example.com,"Greene, John",Amsterdam,10,"said ""hi"""\r\n' +
    'C-2,c2@example.com,Ann,"Utrecht",20,"two\nlines"\r\n' +
    "C-3,not-an-email,Bob,Delft,30,x\r\n" +
    'C-4,c4@example.com,"broken,quote,Leiden,40,x\r\n';

  it("reads the header past a BOM", () => {
    const h = parseCsvHeader(file);
    expect(h).toEqual({
      header: [
        "identity.crm",
        "identity.email",
        "firstName",
        "address.city",
        "loyalty.points",
        "note",
      ],
      bytes: 3 + 70 + 2,
    });
  });

  it("parses quoted fields, embedded newlines, and reports lines and bytes", () => {
    const h = parseCsvHeader(file) as { header: string[]; bytes: number };
    const rest = new TextDecoder().decode(encoder.encode(file).slice(h.bytes));
    const chunk = parseCsvChunk(rest, h.header, 2, true, 1000);
    expect(chunk.rows.map((r) => [r.line, r.error ? "error" : r.value!.note])).toEqual([
      [2, 'said "hi"'],
      [3, "two\nlines"],
      [5, "x"],
      [6, "error"],
    ]);
    expect(chunk.consumedBytes).toBe(encoder.encode(rest).length);
  });

  it("leaves a cut-off last row for the next chunk, and the chunks join up exactly", () => {
    const header = ["a", "b"];
    const text = Array.from({ length: 50 }, (_, i) => `${i},"v ${i}\nx"`).join("\n") + "\n";
    let offset = 0;
    let line = 2;
    const seen: string[] = [];
    const bytes = encoder.encode(text);
    while (offset < bytes.length) {
      const slice = bytes.slice(offset, offset + 100);
      const atEnd = offset + slice.length >= bytes.length;
      const chunk = parseCsvChunk(new TextDecoder().decode(slice), header, line, atEnd, 7);
      for (const r of chunk.rows) seen.push(`${r.line}:${r.value?.a}`);
      offset += chunk.consumedBytes;
      line += chunk.consumedLines;
      expect(chunk.consumedBytes).toBeGreaterThan(0);
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `${2 + 2 * i}:${i}`));
  });

  it("contains broken quoting to its own line: the rows after it survive", () => {
    const text = 'a,"ok"\nb,"unbalanced"quote\nc,"next, row"\nd,"never closed\ne,fine\n';
    const chunk = parseCsvChunk(text, ["k", "v"], 2, true, 1000);
    expect(chunk.rows.map((r) => [r.line, r.error ? "error" : r.value!.k])).toEqual([
      [2, "a"],
      [3, "error"],
      [4, "c"],
      [5, "error"],
      [6, "e"],
    ]);
    expect(chunk.consumedBytes).toBe(text.length);
  });

  it("maps columns to identities, timestamp and nested attributes, coercing by schema", () => {
    const item = csvRowToItem(
      {
        "identity.crm": "1",
        "identity.email": "",
        "loyalty.points": "12",
        "loyalty.tier": "gold",
        timestamp: "2026-01-01T00:00:00Z",
      },
      "records",
      "crm",
      {
        type: "object",
        properties: { loyalty: { type: "object", properties: { points: { type: "integer" } } } },
      },
    );
    expect(item).toEqual({
      dataset: "crm",
      identities: [{ namespace: "crm", id: "1" }],
      timestamp: "2026-01-01T00:00:00Z",
      attributes: { loyalty: { points: 12, tier: "gold" } },
    });
  });
});

describe("NDJSON chunk parsing", () => {
  it("parses complete lines, skips blanks, reports bad JSON by line", () => {
    const chunk = parseNdjsonChunk('{"a":1}\n\n{bad\n{"a":2}\n{"a":', 1, false, 100);
    expect(chunk.rows.map((r) => [r.line, r.value?.a ?? r.error?.slice(0, 12)])).toEqual([
      [1, 1],
      [3, "invalid JSON"],
      [4, 2],
    ]);
    expect(chunk.consumedLines).toBe(4);
  });
});

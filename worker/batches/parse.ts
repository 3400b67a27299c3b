/**
 * Parses one chunk of a batch file. A chunk is a byte range of the stored file; only
 * complete rows are consumed (the tail is left for the next chunk unless this is the end
 * of the file), and the chunk reports how many bytes and lines it consumed, so the next
 * chunk can start exactly there — with a range read, never by re-reading the file.
 */
import Papa from "papaparse";

export type BatchFormat = "csv" | "ndjson";

export interface ParsedRow {
  /** 1-based line number in the file where the row starts. */
  line: number;
  /** The row as an item object, or a parse error. */
  value?: Record<string, unknown>;
  error?: string;
}

export interface ParsedChunk {
  rows: ParsedRow[];
  consumedBytes: number;
  consumedLines: number;
}

const encoder = new TextEncoder();

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** NDJSON: one JSON object per line; blank lines are skipped. */
export function parseNdjsonChunk(text: string, startLine: number, atEnd: boolean, maxRows: number): ParsedChunk {
  const rows: ParsedRow[] = [];
  let pos = 0;
  let line = startLine;
  while (pos < text.length && rows.length < maxRows) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0 && !atEnd) break; // incomplete last line: next chunk
    const end = nl < 0 ? text.length : nl;
    const raw = text.slice(pos, end).replace(/\r$/, "");
    if (raw.trim().length > 0) {
      try {
        const value = JSON.parse(raw);
        if (value === null || typeof value !== "object" || Array.isArray(value)) rows.push({ line, error: "each line must be a JSON object" });
        else rows.push({ line, value });
      } catch (err) {
        rows.push({ line, error: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    pos = nl < 0 ? text.length : nl + 1;
    line++;
  }
  return { rows, consumedBytes: encoder.encode(text.slice(0, pos)).length, consumedLines: line - startLine };
}

/**
 * CSV (RFC 4180 via papaparse): quoted fields, embedded commas, quotes and newlines.
 * `header` comes from the first line of the file, parsed once when the batch starts.
 */
export function parseCsvChunk(
  text: string,
  header: string[],
  startLine: number,
  atEnd: boolean,
  maxRows: number,
): ParsedChunk {
  const rows: ParsedRow[] = [];
  // Row boundaries, from papaparse's cursor after each row.
  const ends: number[] = [];
  const starts: number[] = [];
  let previous = 0;
  const raw: { data: string[]; errors: Papa.ParseError[] }[] = [];
  Papa.parse<string[]>(text, {
    header: false,
    // A fixed delimiter: auto-detection guesses per chunk and reports warnings as errors.
    delimiter: ",",
    skipEmptyLines: false,
    step: (result, parser) => {
      starts.push(previous);
      ends.push(result.meta.cursor);
      previous = result.meta.cursor;
      raw.push({ data: result.data, errors: result.errors });
      if (raw.length > maxRows) parser.abort();
    },
  });
  // Without the end of the file, the last row may be cut off: leave it for the next chunk.
  let usable = raw.length;
  if (!atEnd && usable > 0 && ends[usable - 1]! >= text.length) usable--;
  usable = Math.min(usable, maxRows);

  let consumedChars = 0;
  let line = startLine;
  for (let i = 0; i < usable; i++) {
    const rowStart = starts[i]!;
    line = startLine + countNewlines(text, 0, rowStart);
    const row = raw[i]!;
    // Advance past the row's line break, which the cursor may not include.
    let end = ends[i]!;
    if (text[end] === "\r") end++;
    if (text[end] === "\n") end++;
    consumedChars = end;
    const cells = row.data;
    if (cells.length === 1 && cells[0] === "") continue; // blank line
    if (row.errors.length > 0) {
      rows.push({ line, error: `CSV: ${row.errors[0]!.message}` });
      continue;
    }
    if (cells.length !== header.length) {
      rows.push({ line, error: `CSV: expected ${header.length} fields, found ${cells.length}` });
      continue;
    }
    rows.push({ line, value: Object.fromEntries(header.map((h, j) => [h, cells[j]!])) });
  }
  const consumedText = text.slice(0, consumedChars);
  return {
    rows,
    consumedBytes: encoder.encode(consumedText).length,
    consumedLines: countNewlines(consumedText, 0, consumedText.length),
  };
}

/** The header line of a CSV file and the bytes it takes (BOM included). */
export function parseCsvHeader(text: string): { header: string[]; bytes: number } | { error: string } {
  const hadBom = text.charCodeAt(0) === 0xfeff;
  const body = stripBom(text);
  const nl = body.search(/\r?\n/);
  if (nl < 0) return { error: "CSV: the file has no header line" };
  const first = body.slice(0, nl);
  const parsed = Papa.parse<string[]>(first, { header: false, delimiter: "," });
  const header = (parsed.data[0] ?? []).map((h) => h.trim());
  if (header.length === 0 || header.some((h) => h.length === 0)) return { error: "CSV: the header has an empty column name" };
  const lineBreak = body.slice(nl).startsWith("\r\n") ? 2 : 1;
  return { header, bytes: (hadBom ? 3 : 0) + encoder.encode(first).length + lineBreak };
}

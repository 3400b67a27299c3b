/**
 * Parses one chunk of a batch file. A chunk is a byte range of the stored file; only
 * complete rows are consumed (the tail is left for the next chunk unless this is the end
 * of the file), and the chunk reports how many bytes and lines it consumed, so the next
 * chunk can start exactly there — with a range read, never by re-reading the file.
 */
import Papa from "papaparse";

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

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** NDJSON: one JSON object per line; blank lines are skipped. */
export function parseNdjsonChunk(
  text: string,
  startLine: number,
  atEnd: boolean,
  maxRows: number,
): ParsedChunk {
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
        if (value === null || typeof value !== "object" || Array.isArray(value))
          rows.push({ line, error: "each line must be a JSON object" });
        else rows.push({ line, value });
      } catch (err) {
        rows.push({
          line,
          error: `invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    }
    pos = nl < 0 ? text.length : nl + 1;
    line++;
  }
  return {
    rows,
    consumedBytes: encoder.encode(text.slice(0, pos)).length,
    consumedLines: line - startLine,
  };
}

/** A quoted field may hold newlines, but a row running longer than this is broken quoting. */
const MAX_ROW_CHARS = 64 * 1024;

/**
 * CSV (RFC 4180 via papaparse): quoted fields, embedded commas, quotes and newlines.
 * `header` comes from the first line of the file, parsed once when the batch starts.
 *
 * Broken quoting is contained to its own line: a row papaparse reports a quote error for
 * is failed on the physical line where it starts, and parsing restarts on the next line —
 * so one stray quote costs one row, not the rows after it.
 */
export function parseCsvChunk(
  text: string,
  header: string[],
  startLine: number,
  atEnd: boolean,
  maxRows: number,
): ParsedChunk {
  const rows: ParsedRow[] = [];
  let consumed = 0;
  let lineAt = { pos: 0, line: startLine };
  const lineOf = (pos: number) => {
    lineAt = { pos, line: lineAt.line + countNewlines(text, lineAt.pos, pos) };
    return lineAt.line;
  };
  const pastLineBreak = (pos: number) => {
    if (text[pos] === "\r") pos++;
    if (text[pos] === "\n") pos++;
    return pos;
  };

  let from = 0;
  while (from < text.length && rows.length < maxRows) {
    let restartAt: number | undefined;
    let previous = 0;
    Papa.parse<string[]>(text.slice(from), {
      header: false,
      // A fixed delimiter: auto-detection guesses per chunk and reports warnings as errors.
      delimiter: ",",
      skipEmptyLines: false,
      step: (result, parser) => {
        const rowStart = from + previous;
        const rowEnd = from + result.meta.cursor;
        previous = result.meta.cursor;
        const runsToEnd = rowEnd >= text.length;
        const quoteError = result.errors.some((e) => e.type === "Quotes");
        // Possibly cut off by the chunk boundary: leave it for the next chunk.
        if (runsToEnd && !atEnd && (!quoteError || text.length - rowStart < MAX_ROW_CHARS))
          return parser.abort();

        const line = lineOf(rowStart);
        if (quoteError) {
          const lineEnd = text.indexOf("\n", rowStart);
          if (lineEnd < 0 && !atEnd) return parser.abort();
          rows.push({
            line,
            error: `CSV: ${result.errors[0]!.message} (quotes must be balanced within the row)`,
          });
          consumed = restartAt = lineEnd < 0 ? text.length : lineEnd + 1;
          return parser.abort();
        }
        consumed = pastLineBreak(rowEnd);
        const cells = result.data;
        if (!(cells.length === 1 && cells[0] === "")) {
          if (result.errors.length > 0)
            rows.push({ line, error: `CSV: ${result.errors[0]!.message}` });
          else if (cells.length !== header.length)
            rows.push({
              line,
              error: `CSV: expected ${header.length} fields, found ${cells.length}`,
            });
          else rows.push({ line, value: Object.fromEntries(header.map((h, j) => [h, cells[j]!])) });
        }
        if (rows.length >= maxRows) parser.abort();
      },
    });
    if (restartAt === undefined) break;
    from = restartAt;
  }

  const consumedText = text.slice(0, consumed);
  return {
    rows,
    consumedBytes: encoder.encode(consumedText).length,
    consumedLines: countNewlines(consumedText, 0, consumedText.length),
  };
}

/** The header line of a CSV file and the bytes it takes (BOM included). */
/** `atEnd`: the text is the whole file, so a header without a line break is the last line. */
export function parseCsvHeader(
  text: string,
  atEnd = false,
): { header: string[]; bytes: number } | { error: string } {
  const hadBom = text.charCodeAt(0) === 0xfeff;
  const body = stripBom(text);
  const found = body.search(/\r?\n/);
  if (found < 0 && !atEnd) return { error: "CSV: the file has no header line" };
  const nl = found < 0 ? body.length : found;
  const first = body.slice(0, nl);
  const parsed = Papa.parse<string[]>(first, { header: false, delimiter: "," });
  const header = (parsed.data[0] ?? []).map((h) => h.trim());
  if (header.length === 0 || header.some((h) => h.length === 0))
    return { error: "CSV: the header has an empty column name" };
  const lineBreak = found < 0 ? 0 : body.slice(nl).startsWith("\r\n") ? 2 : 1;
  return { header, bytes: (hadBom ? 3 : 0) + encoder.encode(first).length + lineBreak };
}

/**
 * Bulk statements pass their rows as one JSON array bound to a single parameter and read
 * it with `json_each` — D1 allows only 100 bound parameters per statement, but a JSON
 * parameter can carry thousands of rows. Chunks stay well under D1's 2 MB value limit.
 */
const MAX_CHUNK_BYTES = 512 * 1024;

export function jsonChunks(rows: readonly unknown[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (current.length > 0 && bytes + text.length + 1 > MAX_CHUNK_BYTES) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(text);
    bytes += text.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

/** One prepared statement per chunk of rows. */
export function bulk(d1: D1Database, sql: string, rows: readonly unknown[]): D1PreparedStatement[] {
  return jsonChunks(rows).map((chunk) => d1.prepare(sql).bind(chunk));
}

/** `json_extract(value, '$[0]'), …` for the first `n` fields of each JSON row. */
export function jsonColumns(n: number): string {
  return Array.from({ length: n }, (_, i) => `json_extract(value, '$[${i}]')`).join(", ");
}

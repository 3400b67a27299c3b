/**
 * The `Tessera-Consistency` token (SPEC §6): what a write answer carries and a later read
 * may present to see at least that state. Opaque to callers; inside it is the writer's
 * commit position and, when the D1 projection already holds that commit, the D1 Sessions
 * bookmark of the projection batch that applied it — a read that presents the bookmark is
 * served by a D1 session that is at least there (a read replica included).
 *
 *   t1.<shard>.<seq>[.<bookmark>]
 */
export interface ConsistencyToken {
  shard: number;
  seq: number;
  bookmark?: string;
}

const TOKEN = /^t1\.(\d{1,6})\.(\d{1,15})(?:\.([A-Za-z0-9-]{1,200}))?$/;

export function formatToken(token: ConsistencyToken): string {
  return `t1.${token.shard}.${token.seq}${token.bookmark ? `.${token.bookmark}` : ""}`;
}

/** The token in `text`, or undefined when it is not one. */
export function parseToken(text: string): ConsistencyToken | undefined {
  const m = TOKEN.exec(text.trim());
  if (!m) return undefined;
  return { shard: Number(m[1]), seq: Number(m[2]), ...(m[3] ? { bookmark: m[3] } : {}) };
}

/** Sets the write answer's `Tessera-Consistency` header; returns the answer's value. */
export function consistentAnswer<T>(
  c: { header(name: string, value: string): void },
  answer: { value: T; consistency: string },
): T {
  c.header("Tessera-Consistency", answer.consistency);
  return answer.value;
}

/** SQL for reports: indexed by (type, at); per-message firsts are reduced in SQL. */
import type { Conversion, Touch } from "../../analytics/attribution";
import type { MessageFirst, RetryEvent } from "../../reports/messages";
import { eachSlice, readBudget, readInSlices, type ReadBudget } from "../../lib/time-slices";

/** How far before the range we look so "first delivery/open" is really the first. */
export const MESSAGE_LOOKBACK_MS = 30 * 86_400_000;

/**
 * The message report's facts: per (type, message) the first event, and the retries. Read in
 * time slices (../../lib/time-slices.ts) so no single query holds the database; the firsts
 * of the slices are merged to the earliest per (type, message), as one GROUP BY would.
 */
export async function messageFacts(d1: D1Database, start: number, end: number, budget: ReadBudget = readBudget()): Promise<{ firsts: MessageFirst[]; retries: RetryEvent[] }> {
  const firstRows = await readInSlices(start - MESSAGE_LOOKBACK_MS, end, budget, async (from, to) => {
    const { results } = await d1
      .prepare(
        `SELECT type, json_extract(data, '$.messageId') AS mid, min(at) AS first_at,
                json_extract(data, '$.channel') AS channel, json_extract(data, '$.journey') AS journey
         FROM events
         WHERE type IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked')
           AND at >= ?1 AND at < ?2 AND json_extract(data, '$.messageId') IS NOT NULL
           AND (type != 'message.sent' OR coalesce(json_extract(data, '$.attempt'), 1) <= 1)
         GROUP BY type, mid`,
      )
      .bind(from, to)
      .all<{ type: string; mid: unknown; first_at: number; channel: string | null; journey: string | null }>();
    return results;
  });
  const retries = await readInSlices(start, end, budget, async (from, to) => {
    const { results } = await d1
      .prepare(
        `SELECT at, json_extract(data, '$.channel') AS channel, json_extract(data, '$.journey') AS journey FROM events
         WHERE ((type = 'message.retry') OR (type = 'message.sent' AND coalesce(json_extract(data, '$.attempt'), 1) > 1))
           AND at >= ?1 AND at < ?2`,
      )
      .bind(from, to)
      .all<{ at: number; channel: string | null; journey: string | null }>();
    return results;
  });
  // Slices come oldest first: the first row seen per (type, message) is its earliest.
  const firsts = new Map<string, MessageFirst>();
  for (const r of firstRows) {
    const key = `${r.type}\u0000${String(r.mid)}`;
    if (!firsts.has(key)) firsts.set(key, { type: r.type as MessageFirst["type"], messageId: String(r.mid), firstAt: r.first_at, channel: r.channel ?? null, journey: r.journey ?? null });
  }
  return { firsts: [...firsts.values()], retries: retries.map((r) => ({ at: r.at, channel: r.channel ?? null, journey: r.journey ?? null })) };
}

export interface EventFact {
  type: string;
  at: number;
  value: unknown;
  profileId: string | null;
}

/** Events in range (optionally one type), with the value at `dataPath` and their profile. */
export async function eventFacts(d1: D1Database, start: number, end: number, type: string | undefined, dataPath: string | undefined, limit: number): Promise<EventFact[]> {
  const path = dataPath ? `$.${dataPath}` : "$.__none__";
  const { results } = await d1
    .prepare(
      // On the (type, at) index: the one type, or the types the hourly rollups saw in range.
      `SELECT e.type, e.at, json_extract(e.data, ?4) AS value, i.profile_id FROM events e
       LEFT JOIN identities i ON i.id = e.identity_id
       WHERE e.type IN (SELECT ?3 WHERE ?3 IS NOT NULL UNION SELECT DISTINCT type FROM event_rollups WHERE ?3 IS NULL AND hour >= ?6 AND hour <= ?7 AND events > 0)
         AND e.at >= ?1 AND e.at < ?2 LIMIT ?5`,
    )
    .bind(start, end, type ?? null, path, limit, Math.floor(start / 3_600_000), Math.floor(end / 3_600_000))
    .all<{ type: string; at: number; value: unknown; profile_id: string | null }>();
  return results.map((r) => ({ type: r.type, at: r.at, value: r.value, profileId: r.profile_id }));
}

/** Events of the conversion type in range, with their profile and the number at `valuePath`. */
export async function conversionFacts(d1: D1Database, type: string, start: number, end: number, valuePath: string | undefined, limit: number, budget: ReadBudget = readBudget()): Promise<Conversion[]> {
  return readInSlices(
    start,
    end,
    budget,
    async (from, to) => {
      const { results } = await d1
        .prepare(
          `SELECT i.profile_id AS profileId, e.at,
                  CASE WHEN ?4 IS NOT NULL AND json_type(e.data, ?4) IN ('integer', 'real') THEN json_extract(e.data, ?4) END AS value
           FROM events e JOIN identities i ON i.id = e.identity_id
           WHERE e.type = ?1 AND e.at >= ?2 AND e.at < ?3 LIMIT ?5`,
        )
        .bind(type, from, to, valuePath ? `$.${valuePath}` : null, limit)
        .all<Conversion>();
      return results;
    },
    limit,
  );
}

/**
 * Journey messages delivered or clicked in [start, end) by the profiles that converted —
 * the only touchpoints attribution can use. Read in time slices; the profiles are matched
 * here rather than by a subquery that every slice would run again.
 */
export async function touchFacts(d1: D1Database, converters: ReadonlySet<string>, start: number, end: number, limit: number, budget: ReadBudget = readBudget()): Promise<Touch[]> {
  const touches: Touch[] = [];
  await eachSlice(start, end, budget, async (from, to) => {
    const { results } = await d1
      .prepare(
        `SELECT i.profile_id AS profileId, e.at, json_extract(e.data, '$.messageId') AS messageId, json_extract(e.data, '$.journey') AS journey
         FROM events e JOIN identities i ON i.id = e.identity_id
         WHERE e.type IN ('message.delivered', 'message.clicked') AND e.at >= ?1 AND e.at < ?2
           AND json_type(e.data, '$.journey') = 'text' AND json_extract(e.data, '$.messageId') IS NOT NULL`,
      )
      .bind(from, to)
      .all<Touch>();
    for (const t of results) if (converters.has(t.profileId)) touches.push({ ...t, messageId: String(t.messageId) });
    return touches.length < limit;
  });
  return touches;
}

/** SQL for reports: events by (type, at), messages by their firsts (`message_firsts`), counted in SQL. */
import type { Conversion, Touch } from "../../analytics/attribution";
import type { MessageCount, RetryCount } from "../../reports/messages";
import { Binder, localDaySql } from "./analytics";
import { onWholeHours } from "../../reports/time";
import { eachSlice, readBudget, readInSlices, type ReadBudget } from "../../lib/time-slices";

const HOUR = 3_600_000;

/**
 * The message report's facts, counted in SQL: per type, local day, channel and journey, the
 * messages whose first event of that type falls in the range — a bounce only while the
 * message has no delivery — and the retries. Whole-hour zones read the hourly rollups of the
 * firsts (`message_rollups`); others count the firsts (`message_firsts`) in time slices
 * (../../lib/time-slices.ts), whose counts add up as every first falls in one slice.
 */
export async function messageCounts(
  d1: D1Database,
  range: { start: number; end: number },
  steps: readonly { until: number | null; offset: number }[],
  budget: ReadBudget = readBudget(),
): Promise<{ firsts: MessageCount[]; retries: RetryCount[] }> {
  const firsts = onWholeHours(range, steps)
    ? await (async () => {
        const b = new Binder();
        const [start, end] = [b.bind(range.start / HOUR), b.bind(range.end / HOUR)];
        const { results } = await d1
          .prepare(
            `SELECT type, ${localDaySql("(hour * 3600000)", steps, b)} AS day, nullif(channel, '') AS channel, nullif(journey, '') AS journey, sum(messages) AS count
             FROM message_rollups WHERE hour >= ${start} AND hour < ${end} AND messages != 0
             GROUP BY 1, 2, 3, 4`,
          )
          .bind(...b.values)
          .all<MessageCount>();
        return results;
      })()
    : await readInSlices(range.start, range.end, budget, async (from, to) => {
        const b = new Binder();
        const [start, end] = [b.bind(from), b.bind(to)];
        const { results } = await d1
          .prepare(
            `SELECT f.type AS type, ${localDaySql("f.first_at", steps, b)} AS day, f.channel AS channel, f.journey AS journey, count(*) AS count
             FROM message_firsts f
             WHERE f.first_at >= ${start} AND f.first_at < ${end}
               AND NOT (f.type = 'message.bounced' AND EXISTS (SELECT 1 FROM message_firsts d WHERE d.type = 'message.delivered' AND d.message_id = f.message_id))
             GROUP BY 1, 2, 3, 4`,
          )
          .bind(...b.values)
          .all<MessageCount>();
        return results;
      });
  const retries = await readInSlices(range.start, range.end, budget, async (from, to) => {
    const b = new Binder();
    const [start, end] = [b.bind(from), b.bind(to)];
    const day = localDaySql("at", steps, b);
    // Repeated sends through their partial index (its WHERE is repeated here, as SQLite requires):
    // the (type, at) index would read every send of the range.
    const { results } = await d1
      .prepare(
        `SELECT day, channel, journey, count(*) AS count FROM (
           SELECT ${day} AS day, json_extract(data, '$.channel') AS channel, json_extract(data, '$.journey') AS journey FROM events
           WHERE type = 'message.retry' AND at >= ${start} AND at < ${end}
           UNION ALL
           SELECT ${day}, json_extract(data, '$.channel'), json_extract(data, '$.journey') FROM events INDEXED BY events_sent_retry_idx
           WHERE type = 'message.sent' AND coalesce(json_extract(data, '$.attempt'), 1) > 1 AND at >= ${start} AND at < ${end})
         GROUP BY 1, 2, 3`,
      )
      .bind(...b.values)
      .all<RetryCount>();
    return results;
  });
  return { firsts, retries };
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

/** The number at `valuePath` in a conversion event's data (`c`), or NULL. */
const valueSql = (valuePath: string | undefined, b: Binder) => {
  if (!valuePath) return "NULL";
  const path = b.bind(`$.${valuePath}`);
  return `CASE WHEN json_type(c.data, ${path}) IN ('integer', 'real') THEN json_extract(c.data, ${path}) END`;
};

/** How many conversion events of `type` are in [start, end), and the sum of their values (the number at `valuePath`). */
export async function conversionTotals(d1: D1Database, type: string, start: number, end: number, valuePath: string | undefined, budget: ReadBudget = readBudget()): Promise<{ count: number; value: number }> {
  const parts = await readInSlices(start, end, budget, async (from, to) => {
    const b = new Binder();
    const row = await d1
      .prepare(`SELECT count(*) AS count, total(${valueSql(valuePath, b)}) AS value FROM events c WHERE c.type = ${b.bind(type)} AND c.at >= ${b.bind(from)} AND c.at < ${b.bind(to)}`)
      .bind(...b.values)
      .first<{ count: number; value: number }>();
    return row ? [row] : [];
  });
  return parts.reduce((sum, p) => ({ count: sum.count + p.count, value: sum.value + p.value }), { count: 0, value: 0 });
}

/**
 * The conversions of `type` in [start, end) that have touchpoints, with those touchpoints:
 * the journey messages of the same profile first delivered or first clicked within
 * `windowMs` before the conversion (`message_firsts`, through the profile's identities).
 * Conversions without any stay in the database (`conversionTotals` counts them). Read in
 * time slices of the conversions; a touch seen by several conversions comes back once.
 */
export async function touchedConversions(
  d1: D1Database,
  type: string,
  start: number,
  end: number,
  windowMs: number,
  valuePath: string | undefined,
  limit: number,
  budget: ReadBudget = readBudget(),
): Promise<{ conversions: Conversion[]; touches: Touch[] }> {
  const conversions = new Map<string, Conversion>();
  const touches = new Map<string, Touch>();
  await eachSlice(start, end, budget, async (from, to) => {
    const b = new Binder();
    const value = valueSql(valuePath, b);
    const [kind, start, end, window] = [b.bind(type), b.bind(from), b.bind(to), b.bind(windowMs)];
    const { results } = await d1
      .prepare(
        `SELECT c.id AS conversionId, ic.profile_id AS profileId, c.at AS at, ${value} AS value,
                f.first_at AS touchAt, f.message_id AS messageId, f.journey AS journey, f.type AS kind
         FROM events c
         JOIN identities ic ON ic.id = c.identity_id
         JOIN identities it ON it.profile_id = ic.profile_id
         JOIN message_firsts f ON f.identity_id = it.id AND f.first_at >= c.at - ${window} AND f.first_at <= c.at
         WHERE c.type = ${kind} AND c.at >= ${start} AND c.at < ${end}
           AND f.type IN ('message.delivered', 'message.clicked') AND typeof(f.journey) = 'text'`,
      )
      .bind(...b.values)
      .all<{ conversionId: string; profileId: string; at: number; value: number | null; touchAt: number; messageId: string; journey: string; kind: string }>();
    for (const r of results) {
      conversions.set(r.conversionId, { profileId: r.profileId, at: r.at, value: r.value });
      touches.set(`${r.kind}\u0000${r.messageId}`, { profileId: r.profileId, at: r.touchAt, messageId: r.messageId, journey: r.journey });
    }
    return touches.size < limit;
  });
  return { conversions: [...conversions.values()], touches: [...touches.values()] };
}

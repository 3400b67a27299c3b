/** SQL for reports: events by (type, at), messages by their firsts (`message_firsts`), counted in SQL. */

import { onWholeHours } from "../../lib/time";
import { eachSlice, type ReadBudget, readBudget, readInSlices } from "../../lib/time-slices";
import type { Conversion, MessageCount, RetryCount, Touch } from "../../model/analytics";
import { Binder, localDaySql } from "./analytics";

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

interface EventFact {
  type: string;
  at: number;
  value: unknown;
  profileId: string | null;
}

/** Events in range (optionally one type), with the value at `dataPath` and their profile. */
export async function eventFacts(
  d1: D1Database,
  start: number,
  end: number,
  type: string | undefined,
  dataPath: string | undefined,
  limit: number,
): Promise<EventFact[]> {
  const path = dataPath ? `$.${dataPath}` : "$.__none__";
  const { results } = await d1
    .prepare(
      // On the (type, at) index: the one type, or the types the hourly rollups saw in range.
      `SELECT e.type, e.at, json_extract(e.data, ?4) AS value, i.profile_id FROM events e
       LEFT JOIN identities i ON i.id = e.identity_id
       WHERE e.type IN (SELECT ?3 WHERE ?3 IS NOT NULL UNION SELECT DISTINCT type FROM event_rollups WHERE ?3 IS NULL AND hour >= ?6 AND hour <= ?7 AND events > 0)
         AND e.at >= ?1 AND e.at < ?2 LIMIT ?5`,
    )
    .bind(
      start,
      end,
      type ?? null,
      path,
      limit,
      Math.floor(start / 3_600_000),
      Math.floor(end / 3_600_000),
    )
    .all<{ type: string; at: number; value: unknown; profile_id: string | null }>();
  return results.map((r) => ({ type: r.type, at: r.at, value: r.value, profileId: r.profile_id }));
}

/** The number at `valuePath` in a conversion event's data (`c`), or NULL. */
const valueSql = (valuePath: string | undefined, b: Binder) => {
  if (!valuePath) return "NULL";
  const path = b.bind(`$.${valuePath}`);
  return `CASE WHEN json_type(c.data, ${path}) IN ('integer', 'real') THEN json_extract(c.data, ${path}) END`;
};

interface ConversionFacts {
  /** Conversion events of the type in range, and the sum of their values. */
  count: number;
  value: number;
  /** The conversions that have touchpoints, and those touchpoints (each once). */
  conversions: Conversion[];
  touches: Touch[];
}

interface ConversionRequest {
  type: string;
  start: number;
  end: number;
  windowMs: number;
  /** A path inside the conversion's data (without `data.`). */
  valuePath: string | undefined;
}

/** A value path the hourly value rollups hold: one top-level field of `data`. */
const TOP_LEVEL_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The count and value sum of the conversions from the hourly rollups (`event_rollups`,
 * `event_value_rollups`), when the range is whole UTC hours and the value, if any, is a
 * top-level field; otherwise undefined (the conversions are then summed as they are read).
 */
async function conversionTotalsFromRollups(
  d1: D1Database,
  request: ConversionRequest,
): Promise<{ count: number; value: number } | undefined> {
  if (request.start % HOUR !== 0 || request.end % HOUR !== 0) return undefined;
  if (request.valuePath !== undefined && !TOP_LEVEL_FIELD.test(request.valuePath)) return undefined;
  const [counts, values] = await d1.batch<{ n: number }>([
    d1
      .prepare(
        "SELECT total(events) AS n FROM event_rollups WHERE type = ?1 AND hour >= ?2 AND hour < ?3",
      )
      .bind(request.type, request.start / HOUR, request.end / HOUR),
    d1
      .prepare(
        "SELECT total(total) AS n FROM event_value_rollups WHERE type = ?1 AND field = ?4 AND hour >= ?2 AND hour < ?3",
      )
      .bind(request.type, request.start / HOUR, request.end / HOUR, request.valuePath ?? null),
  ]);
  return { count: counts!.results[0]?.n ?? 0, value: values!.results[0]?.n ?? 0 };
}

/**
 * The conversions of `type` in [start, end): how many there are and their value sum (from
 * the hourly rollups where they answer it, else counted in SQL), and the ones with
 * touchpoints with those touchpoints — the journey messages of the same profile first
 * delivered or first clicked within `windowMs` before the conversion (`message_firsts`,
 * through the profile's identities). Read in time slices, one round trip per slice;
 * conversions without touchpoints never leave the database. `stop` ends the read early (a
 * limit passed); a touch seen by several conversions comes back once.
 */
export async function conversionFacts(
  d1: D1Database,
  request: ConversionRequest,
  stop: (facts: { count: number; touches: number }) => boolean,
  budget: ReadBudget = readBudget(),
): Promise<ConversionFacts> {
  const rolled = await conversionTotalsFromRollups(d1, request);
  let count = rolled?.count ?? 0;
  let value = rolled?.value ?? 0;
  const conversions = new Map<number, Conversion>();
  const touches = new Map<string, Touch>();
  if (rolled && stop({ count, touches: 0 })) return { count, value, conversions: [], touches: [] };
  await eachSlice(request.start, request.end, budget, async (from, to) => {
    const statements: D1PreparedStatement[] = [];
    if (!rolled) {
      const b = new Binder();
      const sql = `SELECT count(*) AS count, total(${valueSql(request.valuePath, b)}) AS value FROM events c WHERE c.type = ${b.bind(request.type)} AND c.at >= ${b.bind(from)} AND c.at < ${b.bind(to)}`;
      statements.push(d1.prepare(sql).bind(...b.values));
    }
    const b = new Binder();
    const [v, kind, start, end, window] = [
      valueSql(request.valuePath, b),
      b.bind(request.type),
      b.bind(from),
      b.bind(to),
      b.bind(request.windowMs),
    ];
    statements.push(
      // Conversions through the covering (type, at, identity_id) index, touchpoints through
      // the partial index of first deliveries and clicks: a conversion's row is read only
      // when it has touchpoints.
      d1
        .prepare(
          `SELECT c.rowid AS conversionId, ic.profile_id AS profileId, c.at AS at, ${v} AS value,
                  f.first_at AS touchAt, f.message_id AS messageId, f.journey AS journey, f.type AS kind
           FROM events c
           JOIN identities ic ON ic.id = c.identity_id
           JOIN identities it ON it.profile_id = ic.profile_id
           JOIN message_firsts f INDEXED BY message_firsts_touch_idx ON f.identity_id = it.id AND f.first_at >= c.at - ${window} AND f.first_at <= c.at
           WHERE c.type = ${kind} AND c.at >= ${start} AND c.at < ${end}
             AND f.type IN ('message.delivered', 'message.clicked') AND f.journey IS NOT NULL AND typeof(f.journey) = 'text'`,
        )
        .bind(...b.values),
    );
    const results = await d1.batch<Record<string, unknown>>(statements);
    if (!rolled) {
      const sum = results[0]!.results[0] as { count: number; value: number };
      count += sum.count;
      value += sum.value;
    }
    for (const r of results[results.length - 1]!.results as {
      conversionId: number;
      profileId: string;
      at: number;
      value: number | null;
      touchAt: number;
      messageId: string;
      journey: string;
      kind: string;
    }[]) {
      conversions.set(r.conversionId, { profileId: r.profileId, at: r.at, value: r.value });
      touches.set(`${r.kind}\u0000${r.messageId}`, {
        profileId: r.profileId,
        at: r.touchAt,
        messageId: r.messageId,
        journey: r.journey,
      });
    }
    return !stop({ count, touches: touches.size });
  });
  return { count, value, conversions: [...conversions.values()], touches: [...touches.values()] };
}

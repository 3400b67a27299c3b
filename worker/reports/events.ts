/**
 * `GET /v1/reports/events`: a small data view over any events — counts or distinct
 * profiles per day (in the caller's time zone), per type or per a `data.` field's value.
 */
import { eventFacts } from "../db/queries/reports";
import { ApiError, orFail } from "../lib/errors";
import { bucketComplete, bucketKeys, checkTimeZone, dayKey, reportRange } from "./time";

/** Rows read at most; a wider range or type is a 413 (narrow it). */
const EVENT_REPORT_ROW_CAP = 500_000;

export async function eventsReport(
  d1: D1Database,
  q: {
    type?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
    tz?: string | undefined;
    groupBy?: string | undefined;
    metric?: "count" | "profiles" | undefined;
  },
) {
  const tz = orFail(checkTimeZone(q.tz ?? "UTC"));
  const groupBy = q.groupBy ?? "day";
  const metric = q.metric ?? "count";
  const now = Date.now();
  const range = orFail(reportRange(q.from, q.to, tz, now));
  const facts = await eventFacts(
    d1,
    range.start,
    range.end,
    q.type,
    groupBy.startsWith("data.") ? groupBy.slice(5) : undefined,
    EVENT_REPORT_ROW_CAP + 1,
  );
  if (facts.length > EVENT_REPORT_ROW_CAP)
    throw new ApiError(
      "payload_too_large",
      `more than ${EVENT_REPORT_ROW_CAP} events: narrow the range or the type`,
    );
  const buckets = new Map<string, { count: number; profiles: Set<string> }>();
  if (groupBy === "day")
    for (const d of bucketKeys(range, "day", tz)) buckets.set(d, { count: 0, profiles: new Set() });
  for (const f of facts) {
    const key =
      groupBy === "day"
        ? dayKey(f.at, tz)
        : groupBy === "type"
          ? f.type
          : f.value === null || f.value === undefined
            ? "(none)"
            : String(f.value);
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { count: 0, profiles: new Set() }));
    b.count++;
    if (f.profileId) b.profiles.add(f.profileId);
  }
  const items = [...buckets]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, b]) => ({
      key,
      value: metric === "count" ? b.count : b.profiles.size,
      complete: groupBy === "day" ? bucketComplete(key, "day", tz, range, now) : range.end <= now,
    }));
  return { groupBy, metric, items };
}

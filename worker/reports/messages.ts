/**
 * Message delivery reporting (SPEC "reports/messages"), as plain aggregation. Every metric
 * has one definition (also in the README), so numbers never silently disagree:
 *
 * - sent: messages whose first attempt (`message.sent` with attempt 1 or no attempt) falls
 *   in the bucket. Retries are never counted as sent.
 * - retries: `message.retry` events, and `message.sent` with attempt > 1.
 * - delivered: messages with at least one `message.delivered`, counted once, on the first.
 * - bounced: messages with a `message.bounced` and no delivery at all (a bounce that a retry
 *   fixed is a delivery), counted once, on the first bounce.
 * - opened / clicked: messages with at least one open / click, counted once (unique per message).
 * The database does the per-message part (`message_firsts`, see messageCounts); this module
 * puts the counts into the report's rows.
 * A bucket is complete only when its whole time span lies in the past and inside the range.
 */
import type { Grain, MessageCount, RetryCount } from "../model/analytics";
import { bucketComplete, bucketKeys, bucketOfDay } from "./time";

export type GroupBy = Grain | "channel" | "journey";
const isGrain = (g: GroupBy): g is Grain => g === "day" || g === "week" || g === "month";

interface MessageRow {
  key: string;
  sent: number;
  retries: number;
  delivered: number;
  bounced: number;
  opened: number;
  clicked: number;
  complete: boolean;
}

const METRIC_OF: Record<string, keyof Omit<MessageRow, "key" | "complete">> = {
  "message.sent": "sent",
  "message.delivered": "delivered",
  "message.bounced": "bounced",
  "message.opened": "opened",
  "message.clicked": "clicked",
};

export function aggregateMessages(
  firsts: readonly MessageCount[],
  retries: readonly RetryCount[],
  range: { start: number; end: number },
  groupBy: GroupBy,
  tz: string,
  now: number,
): { items: MessageRow[]; totals: Omit<MessageRow, "key" | "complete"> & { complete: boolean } } {
  const rows = new Map<string, MessageRow>();
  const row = (key: string) => {
    let r = rows.get(key);
    if (!r)
      rows.set(
        key,
        (r = {
          key,
          sent: 0,
          retries: 0,
          delivered: 0,
          bounced: 0,
          opened: 0,
          clicked: 0,
          complete: true,
        }),
      );
    return r;
  };
  const keyOf = (day: string, channel: string | null, journey: string | null) =>
    isGrain(groupBy)
      ? bucketOfDay(day, groupBy)
      : groupBy === "channel"
        ? (channel ?? "(none)")
        : (journey ?? "(none)");

  // Every day (week, month) of the range appears, even with zero counts.
  if (isGrain(groupBy)) for (const key of bucketKeys(range, groupBy, tz)) row(key);
  for (const f of firsts) {
    const metric = METRIC_OF[f.type];
    if (metric) row(keyOf(f.day, f.channel, f.journey))[metric] += f.count;
  }
  for (const r of retries) row(keyOf(r.day, r.channel, r.journey)).retries += r.count;
  const rangeComplete = range.end <= now;
  for (const r of rows.values()) {
    r.complete = isGrain(groupBy) ? bucketComplete(r.key, groupBy, tz, range, now) : rangeComplete;
  }
  const items = [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  const totals = {
    sent: 0,
    retries: 0,
    delivered: 0,
    bounced: 0,
    opened: 0,
    clicked: 0,
    complete: rangeComplete,
  };
  for (const r of items)
    for (const k of ["sent", "retries", "delivered", "bounced", "opened", "clicked"] as const)
      totals[k] += r[k];
  return { items, totals };
}

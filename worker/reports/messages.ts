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
 * A bucket is complete only when its whole time span lies in the past and inside the range.
 */
import { bucketComplete, bucketKeys, bucketOfDay, dayKey, type Grain } from "./time";

export interface MessageFirst {
  type: string;
  messageId: string;
  firstAt: number;
  channel: string | null;
  journey: string | null;
}

export interface RetryEvent {
  at: number;
  channel: string | null;
  journey: string | null;
}

export type GroupBy = Grain | "channel" | "journey";
const isGrain = (g: GroupBy): g is Grain => g === "day" || g === "week" || g === "month";

export interface MessageRow {
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
  firsts: readonly MessageFirst[],
  retries: readonly RetryEvent[],
  range: { start: number; end: number },
  groupBy: GroupBy,
  tz: string,
  now: number,
): { items: MessageRow[]; totals: Omit<MessageRow, "key" | "complete"> & { complete: boolean } } {
  const delivered = new Set(firsts.filter((f) => f.type === "message.delivered").map((f) => f.messageId));
  // Channel and journey of a message come from any of its events (the send, usually).
  const context = new Map<string, { channel: string | null; journey: string | null }>();
  for (const f of firsts) {
    const known = context.get(f.messageId);
    context.set(f.messageId, { channel: known?.channel ?? f.channel, journey: known?.journey ?? f.journey });
  }
  const rows = new Map<string, MessageRow>();
  const row = (key: string) => {
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { key, sent: 0, retries: 0, delivered: 0, bounced: 0, opened: 0, clicked: 0, complete: true }));
    return r;
  };
  const keyOf = (at: number, channel: string | null, journey: string | null) =>
    isGrain(groupBy) ? bucketOfDay(dayKey(at, tz), groupBy) : groupBy === "channel" ? (channel ?? "(none)") : (journey ?? "(none)");

  // Every day (week, month) of the range appears, even with zero counts.
  if (isGrain(groupBy)) for (const key of bucketKeys(range, groupBy, tz)) row(key);
  for (const f of firsts) {
    if (f.firstAt < range.start || f.firstAt >= range.end) continue; // first occurrence outside the range
    if (f.type === "message.bounced" && delivered.has(f.messageId)) continue;
    const ctx = context.get(f.messageId)!;
    row(keyOf(f.firstAt, ctx.channel, ctx.journey))[METRIC_OF[f.type]!]++;
  }
  for (const r of retries) {
    if (r.at < range.start || r.at >= range.end) continue;
    row(keyOf(r.at, r.channel, r.journey)).retries++;
  }
  const rangeComplete = range.end <= now;
  for (const r of rows.values()) {
    r.complete = isGrain(groupBy) ? bucketComplete(r.key, groupBy, tz, range, now) : rangeComplete;
  }
  const items = [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  const totals = { sent: 0, retries: 0, delivered: 0, bounced: 0, opened: 0, clicked: 0, complete: rangeComplete };
  for (const r of items) for (const k of ["sent", "retries", "delivered", "bounced", "opened", "clicked"] as const) totals[k] += r[k];
  return { items, totals };
}

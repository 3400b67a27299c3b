/** Calendar days in an IANA time zone (DST-safe, via Intl). */

import { fail, ok, problem, type Result, resultOfSync } from "../lib/result";
import type { Grain } from "../model/analytics";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(tz, f);
  }
  return f;
}

export function checkTimeZone(tz: string): Result<string> {
  try {
    formatter(tz);
    return ok(tz);
  } catch {
    return problem("invalid_request", `unknown time zone "${tz}"`, [
      { path: "tz", message: "an IANA time zone like Europe/Amsterdam" },
    ]);
  }
}

function parts(ms: number, tz: string) {
  const p = Object.fromEntries(
    formatter(tz)
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return {
    y: Number(p.year),
    m: Number(p.month),
    d: Number(p.day),
    h: Number(p.hour),
    mi: Number(p.minute),
    s: Number(p.second),
  };
}

/** YYYY-MM-DD of the instant in the zone. */
export function dayKey(ms: number, tz: string): string {
  const p = parts(ms, tz);
  return `${p.y}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
}

/** The instant a local calendar day starts in the zone. */
function startOfDay(day: string, tz: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  let guess = Date.UTC(y, m - 1, d);
  for (let i = 0; i < 3; i++) {
    const p = parts(guess, tz);
    const wall = Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s);
    const target = Date.UTC(y, m - 1, d);
    guess += target - wall;
  }
  return guess;
}

function nextDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** `from`/`to` as days (inclusive range) or instants; returns [startMs, endMs). */
export function reportRange(
  from: string | undefined,
  to: string | undefined,
  tz: string,
  now = Date.now(),
): Result<{ start: number; end: number }> {
  return resultOfSync(() => rangeOf(from, to, tz, now));
}

/** Report dates: what Tessera can hold (timestamps are 1970…now + 1 day) with room to spare. */
const FIRST_DAY = "1970-01-01";
const LAST_DAY = "2199-12-31";

/** A real calendar day: `2026-02-30` and year 0 are not days (Date.UTC would quietly roll them over). */
function isCalendarDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function rangeOf(
  from: string | undefined,
  to: string | undefined,
  tz: string,
  now: number,
): { start: number; end: number } {
  const parse = (value: string, path: string, endOfDay: boolean) => {
    const outOfRange = () =>
      fail("invalid_request", `${path} must be between ${FIRST_DAY} and ${LAST_DAY}`, [
        { path, message: value },
      ]);
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      if (!isCalendarDay(value))
        fail("invalid_request", `${path} is not a calendar day`, [{ path, message: value }]);
      if (value < FIRST_DAY || value > LAST_DAY) outOfRange();
      return startOfDay(endOfDay ? nextDay(value) : value, tz);
    }
    const ms = Date.parse(value);
    if (!Number.isFinite(ms))
      fail("invalid_request", `${path} must be a date (YYYY-MM-DD) or an ISO-8601 time`, [
        { path, message: value },
      ]);
    if (ms < Date.parse(FIRST_DAY) || ms > Date.parse(`${LAST_DAY}T23:59:59.999Z`)) outOfRange();
    return ms;
  };
  const end = to ? parse(to, "to", true) : startOfDay(nextDay(dayKey(now, tz)), tz);
  const start = from ? parse(from, "from", false) : end - 30 * 86_400_000;
  if (start >= end)
    fail("invalid_request", "from must be before to", [{ path: "from", message: "after to" }]);
  if (end - start > 400 * 86_400_000)
    fail("invalid_request", "a report covers at most 400 days", [
      { path: "from", message: "range too long" },
    ]);
  return { start, end };
}

/** The zone's UTC offset at an instant, in ms (wall clock minus UTC). */
export function offsetAt(ms: number, tz: string): number {
  const p = parts(ms, tz);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
}

/**
 * The zone's offsets over [start, end) as steps: `offset` holds before `until` (the last
 * step has none). Found by sampling every 6 hours and bisecting each change to the
 * second, so SQL can turn an instant into a local day with one CASE over a few steps.
 */
export function offsetSteps(
  start: number,
  end: number,
  tz: string,
): { until: number | null; offset: number }[] {
  const steps: { until: number | null; offset: number }[] = [];
  const SAMPLE = 6 * 3_600_000;
  let current = offsetAt(start, tz);
  for (let t = start; t < end; ) {
    const next = Math.min(t + SAMPLE, end);
    const offset = offsetAt(next, tz);
    if (offset !== current) {
      let lo = t; // offset(lo) = current, offset(hi) differs
      let hi = next;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offsetAt(mid, tz) === current) lo = mid;
        else hi = mid;
      }
      steps.push({ until: hi, offset: current });
      current = offset;
    }
    t = next;
  }
  steps.push({ until: null, offset: current });
  return steps;
}

/** The bucket a local day falls in: the day, the Monday of its ISO week, or YYYY-MM. */
export function bucketOfDay(day: string, grain: Grain): string {
  if (grain === "day") return day;
  if (grain === "month") return day.slice(0, 7);
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

/** The first local day of a bucket key. */
function firstDayOf(key: string): string {
  return key.length === 7 ? `${key}-01` : key;
}

/** The instants a bucket spans in the zone: [start, end). */
function bucketSpan(key: string, grain: Grain, tz: string): { start: number; end: number } {
  const first = firstDayOf(key);
  const [y, m, d] = first.split("-").map(Number) as [number, number, number];
  const after =
    grain === "day"
      ? nextDay(first)
      : grain === "week"
        ? new Date(Date.UTC(y, m - 1, d + 7)).toISOString().slice(0, 10)
        : new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { start: startOfDay(first, tz), end: startOfDay(after, tz) };
}

/** Every bucket key that [start, end) touches, in order. */
export function bucketKeys(
  range: { start: number; end: number },
  grain: Grain,
  tz: string,
): string[] {
  const keys: string[] = [];
  for (let day = dayKey(range.start, tz); startOfDay(day, tz) < range.end; day = nextDay(day)) {
    const key = bucketOfDay(day, grain);
    if (keys[keys.length - 1] !== key) keys.push(key);
  }
  return keys;
}

/** A bucket is complete when its whole span is in the past and inside the range. */
export function bucketComplete(
  key: string,
  grain: Grain,
  tz: string,
  range: { start: number; end: number },
  now: number,
): boolean {
  const span = bucketSpan(key, grain, tz);
  return span.end <= now && span.start >= range.start && span.end <= range.end;
}

/** A range is complete when it is in the past and starts and ends on local midnights (no partial day). */
export function rangeComplete(
  range: { start: number; end: number },
  tz: string,
  now: number,
): boolean {
  const midnight = (ms: number) => startOfDay(dayKey(ms, tz), tz) === ms;
  return range.end <= now && midnight(range.start) && midnight(range.end);
}

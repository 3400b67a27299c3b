/** Calendar days in an IANA time zone (DST-safe, via Intl). */
import { ApiError } from "../lib/errors";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    formatters.set(tz, f);
  }
  return f;
}

export function checkTimeZone(tz: string): string {
  try {
    formatter(tz);
    return tz;
  } catch {
    throw new ApiError("invalid_request", `unknown time zone "${tz}"`, { details: [{ path: "tz", message: "an IANA time zone like Europe/Amsterdam" }] });
  }
}

function parts(ms: number, tz: string) {
  const p = Object.fromEntries(formatter(tz).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second) };
}

/** YYYY-MM-DD of the instant in the zone. */
export function dayKey(ms: number, tz: string): string {
  const p = parts(ms, tz);
  return `${p.y}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
}

/** The instant a local calendar day starts in the zone. */
export function startOfDay(day: string, tz: string): number {
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

export function nextDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** `from`/`to` as days (inclusive range) or instants; returns [startMs, endMs). */
export function reportRange(from: string | undefined, to: string | undefined, tz: string, now = Date.now()): { start: number; end: number } {
  const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
  const parse = (value: string, path: string, endOfDay: boolean) => {
    if (DAY_RE.test(value)) return startOfDay(endOfDay ? nextDay(value) : value, tz);
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) throw new ApiError("invalid_request", `${path} must be a date (YYYY-MM-DD) or an ISO-8601 time`, { details: [{ path, message: value }] });
    return ms;
  };
  const end = to ? parse(to, "to", true) : startOfDay(nextDay(dayKey(now, tz)), tz);
  const start = from ? parse(from, "from", false) : end - 30 * 86_400_000;
  if (start >= end) throw new ApiError("invalid_request", "from must be before to", { details: [{ path: "from", message: "after to" }] });
  if (end - start > 400 * 86_400_000) throw new ApiError("invalid_request", "a report covers at most 400 days", { details: [{ path: "from", message: "range too long" }] });
  return { start, end };
}

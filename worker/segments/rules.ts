/**
 * Segment rules (SPEC "Segments and personalization"): validation and evaluation, as
 * plain logic. A profile is evaluated from its merged attributes and its events.
 */

import { getPath } from "../../shared/attribute-tree";
import { type ErrorDetail, formatPath } from "../../shared/errors";
import {
  type AttributeCondition,
  type CountCondition,
  type EventCondition,
  type Rule,
  RuleSchema,
} from "../../shared/schemas/segments";
import type { ProfileConsent } from "../consent/merge";
import { zodDetails } from "../lib/validation";

export interface RuleEvent {
  type: string;
  at: number;
  data: Record<string, unknown> | null;
}

export interface Subject {
  attributes: Record<string, unknown>;
  /** The profile's consent per purpose (SPEC §8), for `{ consent, status }` conditions. */
  consent?: ProfileConsent;
  /** The profile's events of the types the rule mentions, within its longest window. */
  events: readonly RuleEvent[];
}

interface Evaluation {
  match: boolean;
  /** When the outcome can next change without new data (a window sliding past an event). */
  recheckAt?: number;
}

const DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** ISO-8601 duration → milliseconds (months = 30 days, years = 365 days); undefined if invalid. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === "P" || text.endsWith("T")) return undefined;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as number[];
  const days = y! * 365 + mo! * 30 + w! * 7 + d!;
  return ((days * 24 + h!) * 60 + mi!) * 60_000 + s! * 1000;
}

/** Parses and checks a rule; returns the problems as error details. */
export function validateRule(
  raw: unknown,
): { ok: true; rule: Rule } | { ok: false; details: ErrorDetail[] } {
  const parsed = RuleSchema.safeParse(raw);
  if (!parsed.success) {
    // A union reports every branch; the shared reduction keeps the branch the caller meant.
    const details = zodDetails(parsed.error, ["rule"]);
    return {
      ok: false,
      details: details.length ? details : [{ path: "rule", message: "not a rule" }],
    };
  }
  const details: ErrorDetail[] = [];
  const walk = (rule: Rule, at: PropertyKey[]) => {
    if ("all" in rule) rule.all.forEach((r, i) => walk(r, [...at, "all", i]));
    else if ("any" in rule) rule.any.forEach((r, i) => walk(r, [...at, "any", i]));
    else if ("not" in rule) walk(rule.not, [...at, "not"]);
    else if ("consent" in rule) return;
    else if ("attr" in rule) {
      if (rule.op !== "exists" && rule.value === undefined)
        details.push({
          path: formatPath([...at, "value"]),
          message: `op ${rule.op} needs a value`,
        });
      if (rule.op === "in" && !Array.isArray(rule.value))
        details.push({ path: formatPath([...at, "value"]), message: "op in needs an array" });
    } else {
      if (rule.within !== undefined && !durationMs(rule.within)) {
        details.push({
          path: formatPath([...at, "within"]),
          message: `"${rule.within}" is not an ISO-8601 duration like P30D or PT12H`,
        });
      }
      if (rule.where) walk(rule.where, [...at, "where"]);
    }
  };
  walk(parsed.data, ["rule"]);
  return details.length ? { ok: false, details } : { ok: true, rule: parsed.data };
}

function readPath(tree: unknown, path: string): unknown {
  return getPath(tree, path.split("."));
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function testAttribute(tree: unknown, c: AttributeCondition): boolean {
  const v = readPath(tree, c.attr);
  switch (c.op) {
    case "exists":
      return c.value === false ? v === undefined : v !== undefined && v !== null;
    case "eq":
      return same(v, c.value);
    case "ne":
      return !same(v, c.value);
    case "in":
      return Array.isArray(c.value) && c.value.some((x) => same(x, v));
    case "contains":
      if (Array.isArray(v)) return v.some((x) => same(x, c.value));
      return (
        typeof v === "string" &&
        typeof c.value === "string" &&
        v.toLowerCase().includes(c.value.toLowerCase())
      );
    case "startsWith":
      return (
        typeof v === "string" &&
        typeof c.value === "string" &&
        v.toLowerCase().startsWith(c.value.toLowerCase())
      );
    default: {
      const d = compare(v, c.value);
      if (d === undefined) return false;
      return c.op === "gt" ? d > 0 : c.op === "gte" ? d >= 0 : c.op === "lt" ? d < 0 : d <= 0;
    }
  }
}

function countMatches(n: number, count: CountCondition = { gte: 1 }): boolean {
  return (
    (count.gte === undefined || n >= count.gte) &&
    (count.gt === undefined || n > count.gt) &&
    (count.lte === undefined || n <= count.lte) &&
    (count.lt === undefined || n < count.lt) &&
    (count.eq === undefined || n === count.eq)
  );
}

function testEvents(subject: Subject, c: EventCondition, now: number): Evaluation {
  const window = c.within ? durationMs(c.within)! : undefined;
  const since = window === undefined ? -Infinity : now - window;
  const hits = subject.events
    .filter(
      (e) =>
        e.type === c.event &&
        e.at >= since &&
        e.at <= now &&
        (!c.where || evaluate(c.where, { attributes: e.data ?? {}, events: [] }, now).match),
    )
    .map((e) => e.at)
    .sort((a, b) => a - b);
  // The oldest counted event leaving the window may change the outcome.
  const recheckAt = window !== undefined && hits.length > 0 ? hits[0]! + window + 1 : undefined;
  return { match: countMatches(hits.length, c.count), recheckAt };
}

const earliest = (a?: number, b?: number) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

export function evaluate(rule: Rule, subject: Subject, now: number): Evaluation {
  if ("all" in rule || "any" in rule) {
    const parts = ("all" in rule ? rule.all : rule.any).map((r) => evaluate(r, subject, now));
    const match = "all" in rule ? parts.every((p) => p.match) : parts.some((p) => p.match);
    return {
      match,
      recheckAt: parts.reduce<number | undefined>((t, p) => earliest(t, p.recheckAt), undefined),
    };
  }
  if ("not" in rule) {
    const inner = evaluate(rule.not, subject, now);
    return { match: !inner.match, recheckAt: inner.recheckAt };
  }
  if ("attr" in rule) return { match: testAttribute(subject.attributes, rule) };
  if ("consent" in rule) return { match: subject.consent?.[rule.consent]?.status === rule.status };
  return testEvents(subject, rule, now);
}

/** Whether a rule has a consent condition anywhere in it. */
export function ruleTestsConsent(rule: Rule): boolean {
  if ("all" in rule) return rule.all.some(ruleTestsConsent);
  if ("any" in rule) return rule.any.some(ruleTestsConsent);
  if ("not" in rule) return ruleTestsConsent(rule.not);
  return "consent" in rule;
}

/** Event types a rule looks at and its longest window (undefined: all time). */
export function eventNeeds(rule: Rule): {
  types: Set<string>;
  windowMs: number | undefined;
  any: boolean;
} {
  const types = new Set<string>();
  let windowMs: number | undefined = 0;
  let any = false;
  const walk = (r: Rule) => {
    if ("all" in r) r.all.forEach(walk);
    else if ("any" in r) r.any.forEach(walk);
    else if ("not" in r) walk(r.not);
    else if ("event" in r) {
      any = true;
      types.add(r.event);
      const w = r.within ? durationMs(r.within) : undefined;
      windowMs = w === undefined || windowMs === undefined ? undefined : Math.max(windowMs, w);
    }
  };
  walk(rule);
  return { types, windowMs: any ? windowMs : 0, any };
}

/** The event types and the earliest event time several rules need to be evaluated at `now`. */
export function eventNeedsOf(
  rules: readonly Rule[],
  now: number,
): { types: string[]; since: number } {
  const types = new Set<string>();
  let window: number | undefined = 0;
  for (const rule of rules) {
    const needs = eventNeeds(rule);
    needs.types.forEach((t) => types.add(t));
    if (needs.any)
      window =
        needs.windowMs === undefined || window === undefined
          ? undefined
          : Math.max(window, needs.windowMs);
  }
  return { types: [...types], since: window === undefined ? 0 : now - window };
}

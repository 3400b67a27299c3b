/**
 * Computed attributes (SPEC §7) as plain logic: which events a definition counts, what it
 * keeps of them per identity, how identities' states combine into a profile's value.
 *
 * State is kept per *anchor identity* (the identity an event follows through merges and
 * splits), and every aggregate's state combines: a merge combines the two profiles'
 * identities, a split gives each part the states of its own identities — neither reads
 * an event. Only what removes events (retention, a rolling window sliding past one, a new
 * or changed definition) recomputes a state from the identity's stored events.
 */

import { getPath } from "../../shared/attribute-tree";
import type { Aggregate } from "../../shared/schemas/computed";
import type { ComputedDef, IdentityStates, State } from "../model/computed";
import { evaluate, type RuleEvent } from "../segments/rules";

/** Distinct values tracked per identity and definition (mostFrequent, distinctCount). */
const MAX_DISTINCT = 1000;
/** Longer values (as JSON) are not tracked as distinct values. */
const MAX_VALUE_JSON = 256;

/**
 * A distinct value as a key: a string as itself (states are stored on every event, so they
 * stay small), anything else as \u0001 + its JSON — as is a string that starts with \u0001.
 */
const valueKey = (value: unknown) =>
  typeof value === "string" && !value.startsWith("\u0001")
    ? value
    : `\u0001${JSON.stringify(value)}`;
const keyValue = (key: string): unknown =>
  key.startsWith("\u0001") ? JSON.parse(key.slice(1)) : key;

interface ComputedValue {
  value: unknown;
  events: number;
}

/** Whether `def` counts this event (type, conditions, a usable field), ignoring its window. */
export function counts(def: ComputedDef, event: RuleEvent): boolean {
  if (def.filter?.type && !def.filter.type.includes(event.type)) return false;
  if (def.filter?.where) {
    const subject = { attributes: { type: event.type, data: event.data ?? {} }, events: [] };
    if (!def.filter.where.every((rule) => evaluate(rule, subject, event.at).match)) return false;
  }
  if (!def.field) return true;
  const value = fieldOf(def, event);
  return usesNumbers(def.aggregate)
    ? typeof value === "number" && Number.isFinite(value)
    : value !== undefined && value !== null;
}

/** Whether an event at `at` is inside the definition's window at `now`. */
export const inWindow = (def: ComputedDef, at: number, now: number) =>
  def.withinMs === undefined || at >= now - def.withinMs;

const usesNumbers = (aggregate: Aggregate) =>
  aggregate === "sum" || aggregate === "avg" || aggregate === "min" || aggregate === "max";
const fieldOf = (def: ComputedDef, event: RuleEvent) =>
  def.field ? getPath({ data: event.data ?? {} }, def.field) : undefined;

/** `state` (or a fresh one when it is another version's or absent) with `event` counted. */
export function add(def: ComputedDef, state: State | undefined, event: RuleEvent): State {
  const next: State = state && state.v === def.version ? { ...state } : { v: def.version, n: 0 };
  next.n++;
  if (def.withinMs !== undefined)
    next.o = next.o === undefined ? event.at : Math.min(next.o, event.at);
  const value = fieldOf(def, event);
  switch (def.aggregate) {
    case "count":
      break;
    case "sum":
    case "avg":
      next.s = (next.s ?? 0) + (value as number);
      break;
    case "min":
      next.lo = next.lo === undefined ? (value as number) : Math.min(next.lo, value as number);
      break;
    case "max":
      next.hi = next.hi === undefined ? (value as number) : Math.max(next.hi, value as number);
      break;
    case "first":
      if (!next.f || event.at < next.f[0]) next.f = [event.at, value];
      break;
    case "last":
      if (!next.l || event.at >= next.l[0]) next.l = [event.at, value];
      break;
    case "mostFrequent":
    case "distinctCount": {
      const key = valueKey(value);
      if (key.length > MAX_VALUE_JSON) break;
      const m = { ...(next.m ?? {}) };
      if (m[key] !== undefined) m[key]++;
      else if (Object.keys(m).length < MAX_DISTINCT) m[key] = 1;
      next.m = m;
      break;
    }
  }
  return next;
}

/** A state computed from an identity's events (those `def` counts, inside its window at `now`). */
export function fromEvents(
  def: ComputedDef,
  events: readonly RuleEvent[],
  now: number,
): State | undefined {
  let state: State | undefined;
  for (const e of [...events].sort((a, b) => a.at - b.at))
    if (inWindow(def, e.at, now) && counts(def, e)) state = add(def, state, e);
  return state;
}

/** The states of several identities as one (a profile's). Other versions' states are ignored. */
export function combine(
  def: ComputedDef,
  states: readonly (State | undefined)[],
): State | undefined {
  let out: State | undefined;
  for (const s of states) {
    if (!s || s.v !== def.version || s.n === 0) continue;
    if (!out) {
      out = { ...s, ...(s.m ? { m: { ...s.m } } : {}) };
      continue;
    }
    out.n += s.n;
    if (s.s !== undefined) out.s = (out.s ?? 0) + s.s;
    if (s.lo !== undefined) out.lo = out.lo === undefined ? s.lo : Math.min(out.lo, s.lo);
    if (s.hi !== undefined) out.hi = out.hi === undefined ? s.hi : Math.max(out.hi, s.hi);
    if (s.f && (!out.f || s.f[0] < out.f[0])) out.f = s.f;
    if (s.l && (!out.l || s.l[0] >= out.l[0])) out.l = s.l;
    if (s.o !== undefined) out.o = out.o === undefined ? s.o : Math.min(out.o, s.o);
    if (s.m) {
      const m = (out.m ??= {});
      for (const [k, c] of Object.entries(s.m)) m[k] = (m[k] ?? 0) + c;
    }
  }
  return out;
}

/** The attribute value of a combined state; undefined when no event counts. */
export function valueOf(def: ComputedDef, state: State | undefined): ComputedValue | undefined {
  if (!state || state.n === 0) return undefined;
  const events = state.n;
  switch (def.aggregate) {
    case "count":
      return { value: state.n, events };
    case "sum":
      return { value: round(state.s ?? 0), events };
    case "avg":
      return { value: round((state.s ?? 0) / state.n), events };
    case "min":
      return state.lo === undefined ? undefined : { value: state.lo, events };
    case "max":
      return state.hi === undefined ? undefined : { value: state.hi, events };
    case "first":
      return state.f ? { value: state.f[1], events } : undefined;
    case "last":
      return state.l ? { value: state.l[1], events } : undefined;
    case "distinctCount":
      return { value: Object.keys(state.m ?? {}).length, events };
    case "mostFrequent": {
      // The most frequent value; a tie goes to the one whose key sorts first, so it never depends on storage order.
      let best: [string, number] | undefined;
      for (const [k, c] of Object.entries(state.m ?? {}))
        if (!best || c > best[1] || (c === best[1] && k < best[0])) best = [k, c];
      return best ? { value: keyValue(best[0]), events } : undefined;
    }
  }
}

/** Sums of decimal amounts without binary noise (19.99 + 5.01 = 25, not 24.999999999999996). */
const round = (n: number) => Math.round(n * 1e9) / 1e9;

/** When the identity's windowed values next change with no new data (an event leaving a window). */
export function recheckAtOf(defs: readonly ComputedDef[], states: IdentityStates): number | null {
  let at: number | null = null;
  for (const def of defs) {
    const s = states[def.id];
    if (def.withinMs === undefined || !s || s.v !== def.version || s.o === undefined) continue;
    const due = s.o + def.withinMs + 1;
    at = at === null ? due : Math.min(at, due);
  }
  return at;
}

/** The `computed` attributes of a profile whose identities hold `states` (undefined: none). */
export function profileComputed(
  defs: readonly ComputedDef[],
  states: readonly IdentityStates[],
): Record<string, unknown> | undefined {
  const values: Record<string, unknown> = {};
  for (const def of defs) {
    const v = valueOf(
      def,
      combine(
        def,
        states.map((s) => s[def.id]),
      ),
    );
    if (v) values[def.id] = v.value;
  }
  return Object.keys(values).length ? { computed: values } : undefined;
}

/** How many events a profile's value of `def` counts (its provenance). */
export const eventsCounted = (def: ComputedDef, states: readonly IdentityStates[]) =>
  combine(
    def,
    states.map((s) => s[def.id]),
  )?.n ?? 0;

/** Event types whose events a recompute must read (undefined: every type). */
export function typesOf(defs: readonly ComputedDef[]): string[] | undefined {
  const types = new Set<string>();
  for (const def of defs) {
    if (!def.filter?.type) return undefined;
    def.filter.type.forEach((t) => types.add(t));
  }
  return [...types];
}

/** The earliest event time a recompute at `now` must read (0: all of them). */
export function sinceOf(defs: readonly ComputedDef[], now: number): number {
  let window = 0;
  for (const def of defs) {
    if (def.withinMs === undefined) return 0;
    window = Math.max(window, def.withinMs);
  }
  return now - window;
}

/**
 * Where computed attributes live: every identity that has counted events keeps its states
 * in its own `computed` fragment (`meta.s`), and the profile's primary identity's fragment
 * also holds the profile's values (`attributes.computed`, its states combined) with their
 * names and event counts (`meta.d`). So a typical event rewrites one row (its identity's
 * fragment, which is usually the primary's), every reader that merges fragments sees the
 * values as ordinary attributes, and a merge or a split only re-places fragments — the
 * states of each identity are all it needs, never an event. Names and event counts (the
 * provenance) are added when a profile is read, from the definitions and the states.
 */
import { identityKey } from "../../shared/identity/normalize";
import type { ComputedDef, ComputedMeta, IdentityStates } from "../model/computed";
import type { RuleEvent } from "../segments/rules";
import { add, counts, inWindow, profileComputed, recheckAtOf } from "./aggregate";

interface ComputedFragment {
  attributes: Record<string, unknown>;
  meta: ComputedMeta;
}

export const sameFragment = (
  a: ComputedFragment | undefined,
  b: { attributes: unknown; meta?: unknown } | undefined,
) =>
  JSON.stringify(a ? [a.attributes, a.meta] : null) ===
  JSON.stringify(b ? [b.attributes, b.meta ?? null] : null);

/**
 * The computed fragment each member of a profile should hold, given each member's states
 * and the profile's primary identity (`holder`): the holder's carries the values; others
 * carry only their states; a member with neither holds none (undefined).
 */
export function placement(
  defs: readonly ComputedDef[],
  members: readonly { key: string; states: IdentityStates }[],
  holder: string | undefined,
): Map<string, ComputedFragment | undefined> {
  const known = new Set(defs.map((d) => d.id));
  const kept = members.map((m) => ({
    key: m.key,
    states: Object.fromEntries(
      Object.entries(m.states).filter(([id]) => known.has(id)),
    ) as IdentityStates,
  }));
  const wanted = profileComputed(
    defs,
    kept.map((m) => m.states),
  );
  const out = new Map<string, ComputedFragment | undefined>();
  for (const m of kept) {
    const hasStates = Object.keys(m.states).length > 0;
    const values = m.key === holder ? wanted : undefined;
    if (!hasStates && !values) {
      out.set(m.key, undefined);
      continue;
    }
    const r = recheckAtOf(defs, m.states);
    out.set(m.key, {
      attributes: values ?? {},
      meta: { ...(hasStates ? { s: m.states } : {}), ...(r !== null ? { r } : {}) },
    });
  }
  return out;
}

/** The states of the identities a write slice holds in memory, keyed by identity key; new events are counted into them. */
export class ComputedStates {
  private readonly states = new Map<string, IdentityStates>();

  constructor(
    readonly defs: readonly ComputedDef[],
    loaded: readonly { namespace: string; value: string; meta: ComputedMeta | null }[],
  ) {
    for (const row of loaded)
      if (row.meta?.s) this.states.set(identityKey(row.namespace, row.value), row.meta.s);
  }

  get active(): boolean {
    return this.defs.length > 0;
  }

  /** Counts a new event (anchored on `key`, received at `now`) into every definition that takes it. */
  count(key: string, event: RuleEvent, now: number): void {
    let states: IdentityStates | undefined;
    for (const def of this.defs) {
      if (!inWindow(def, event.at, now) || !counts(def, event)) continue;
      states ??= { ...(this.states.get(key) ?? {}) };
      states[def.id] = add(def, states[def.id], event);
    }
    if (states) this.states.set(key, states);
  }

  /** What each member of a profile should hold (see `placement`). */
  place(
    memberKeys: readonly string[],
    holder: string | undefined,
  ): Map<string, ComputedFragment | undefined> {
    return placement(
      this.defs,
      memberKeys.map((key) => ({ key, states: this.states.get(key) ?? {} })),
      holder,
    );
  }
}

/**
 * The computed-attribute states of the identities a write slice holds in memory (keyed
 * by identity key): new events are counted into their anchor identity's state, and a
 * profile's values are its members' states combined — so after a merge or a split each
 * profile's values are right without reading an event.
 */
import { identityKey } from "../../shared/identity/normalize";
import type { RuleEvent } from "../segments/rules";
import { add, counts, inWindow, profileComputed, recheckAtOf, type ComputedDef, type IdentityStates } from "./aggregate";

export class ComputedProfiles {
  private readonly states = new Map<string, IdentityStates>();
  private readonly changed = new Set<string>();

  constructor(
    private readonly defs: readonly ComputedDef[],
    loaded: readonly { namespace: string; value: string; states: IdentityStates }[],
  ) {
    for (const row of loaded) this.states.set(identityKey(row.namespace, row.value), row.states);
  }

  /** Whether there is anything to compute. */
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
    if (!states) return;
    this.states.set(key, states);
    this.changed.add(key);
  }

  /** The `computed` fragment a profile with these member identities should hold (undefined: none). */
  of(memberKeys: readonly string[]) {
    return profileComputed(
      this.defs,
      memberKeys.map((k) => this.states.get(k) ?? {}),
    );
  }

  /** Rows for `statesWriteStatements`: [identityId, states, recheckAt] of every changed identity still stored. */
  changedRows(rowIdOf: (key: string) => number | undefined): [number, IdentityStates, number | null][] {
    return [...this.changed].flatMap((key) => {
      const id = rowIdOf(key);
      const states = this.states.get(key)!;
      return id === undefined ? [] : [[id, states, recheckAtOf(this.defs, states)] as [number, IdentityStates, number | null]];
    });
  }
}

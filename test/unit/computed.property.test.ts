/**
 * The core of computed attributes (SPEC §7): a value kept per identity and combined per
 * profile must equal the value computed from all the profile's events at once — whatever
 * the partition of events over identities (a merge combines parts, a split separates
 * them), whatever the order events arrived in, and after a state round-trips through JSON
 * (every state is stored as JSON between writes).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AGGREGATES, type Aggregate } from "../../shared/schemas/computed";
import {
  add,
  combine,
  counts,
  fromEvents,
  inWindow,
  profileComputed,
  recheckAtOf,
  valueOf,
} from "../../worker/computed/aggregate";
import type { ComputedDef, State } from "../../worker/model/computed";
import type { RuleEvent } from "../../worker/segments/rules";

const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;

const def = (aggregate: Aggregate, extra: Partial<ComputedDef> = {}): ComputedDef => ({
  id: "x",
  name: "X",
  aggregate,
  ...(aggregate === "count"
    ? {}
    : {
        field:
          aggregate === "first" ||
          aggregate === "last" ||
          aggregate === "mostFrequent" ||
          aggregate === "distinctCount"
            ? ["data", "sku"]
            : ["data", "amount"],
      }),
  filter: { type: ["purchase"] },
  version: 3,
  ...extra,
});

const event = fc.record({
  type: fc.constantFrom("purchase", "purchase", "page.view"),
  // Distinct times: first/last are defined by time, and equal times would make "first" depend on arrival order.
  at: fc.integer({ min: NOW - 60 * DAY, max: NOW }),
  data: fc.record({
    amount: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.constant("n/a" as unknown as number)),
    sku: fc.constantFrom("A", "B", "C", 7, true),
  }),
});
const events = fc.uniqueArray(event, { selector: (e) => e.at, maxLength: 40 });

/** Folds events one by one into a state, through JSON after each (as stored). */
const incremental = (d: ComputedDef, list: readonly RuleEvent[]) =>
  list.reduce<State | undefined>(
    (s, e) =>
      inWindow(d, e.at, NOW) && counts(d, e)
        ? (JSON.parse(JSON.stringify(add(d, s, e))) as State)
        : s,
    undefined,
  );

describe("computed attributes: per identity, combined per profile", () => {
  it.each(AGGREGATES)(
    "%s: combining any partition's states equals computing over all events",
    (aggregate) => {
      const d = def(aggregate);
      fc.assert(
        fc.property(events, fc.array(fc.nat(3), { maxLength: 40 }), (list, parts) => {
          const whole = valueOf(d, fromEvents(d, list, NOW));
          const groups: RuleEvent[][] = [[], [], [], []];
          list.forEach((e, i) => groups[parts[i] ?? 0]!.push(e));
          // Each identity folds its events in arrival order (not time order), as the lane does.
          const combined = valueOf(
            d,
            combine(
              d,
              groups.map((g) => incremental(d, g)),
            ),
          );
          expect(combined).toEqual(whole);
        }),
        { numRuns: 200 },
      );
    },
  );

  it("a window counts only recent events, and says when its oldest one leaves", () => {
    const d = def("count", { withinMs: 30 * DAY });
    const list = [
      { type: "purchase", at: NOW - 40 * DAY, data: {} },
      { type: "purchase", at: NOW - 20 * DAY, data: {} },
      { type: "purchase", at: NOW - 2 * DAY, data: {} },
    ];
    const state = fromEvents(d, list, NOW);
    expect(valueOf(d, state)).toEqual({ value: 2, events: 2 });
    expect(recheckAtOf([d], { x: state! })).toBe(NOW - 20 * DAY + 30 * DAY + 1);
  });

  it("states of another version are ignored; no counted event means no value", () => {
    const d = def("sum");
    const old = {
      ...fromEvents(d, [{ type: "purchase", at: NOW, data: { amount: 9 } }], NOW)!,
      v: 2,
    };
    expect(combine(d, [old])).toBeUndefined();
    expect(profileComputed([d], [{ x: old }])).toBeUndefined();
    expect(add(d, old, { type: "purchase", at: NOW, data: { amount: 4 } })).toMatchObject({
      v: 3,
      n: 1,
      s: 4,
    });
    expect(
      fromEvents(d, [{ type: "page.view", at: NOW, data: { amount: 4 } }], NOW),
    ).toBeUndefined();
  });

  it("sums decimal amounts without binary noise; mostFrequent breaks ties by sort order; values keep their type", () => {
    const sum = def("sum");
    expect(
      valueOf(
        sum,
        fromEvents(
          sum,
          [19.99, 5.01].map((amount, i) => ({ type: "purchase", at: NOW - i, data: { amount } })),
          NOW,
        ),
      )?.value,
    ).toBe(25);
    const top = def("mostFrequent");
    const skus = ["B", "A", 7, 7, "A", "B"].map((sku, i) => ({
      type: "purchase",
      at: NOW - i,
      data: { sku },
    }));
    expect(valueOf(top, fromEvents(top, skus, NOW))?.value).toBe(7);
    expect(valueOf(top, fromEvents(top, skus.slice(0, 2), NOW))?.value).toBe("A");
    const distinct = def("distinctCount");
    expect(
      valueOf(
        distinct,
        fromEvents(distinct, [...skus, { type: "purchase", at: NOW, data: { sku: "7" } }], NOW),
      )?.value,
    ).toBe(4);
  });
});

/** Formula language, attribution and time-zone steps: the pure cores of journey analytics. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attribute } from "../../worker/analytics/attribution";
import { evaluateFormula, FormulaError, parseFormula } from "../../worker/analytics/formula";
import type { Conversion, Touch } from "../../worker/model/analytics";
import { bucketKeys, dayKey, offsetAt, offsetSteps } from "../../worker/reports/time";

type Expr = { text: string; value: number | null };

/** Random formulas over metrics a, b, c with the value JavaScript arithmetic gives them. */
const values = { a: 3, b: 0, c: 7.5 };
const expr: fc.Memo<Expr> = fc.memo((depth) =>
  depth <= 1
    ? fc.oneof(
        fc
          .constantFrom(...(Object.keys(values) as (keyof typeof values)[]))
          .map((k) => ({ text: k, value: values[k] })),
        fc.integer({ min: 0, max: 99 }).map((n) => ({ text: String(n), value: n })),
      )
    : fc.oneof(
        expr(depth - 1),
        fc
          .tuple(expr(depth - 1), fc.constantFrom("+", "-", "*", "/"), expr(depth - 1))
          .map(([l, op, r]) => ({
            text: `(${l.text} ${op} ${r.text})`,
            value:
              l.value === null || r.value === null
                ? null
                : op === "/"
                  ? r.value === 0
                    ? null
                    : l.value / r.value
                  : op === "+"
                    ? l.value + r.value
                    : op === "-"
                      ? l.value - r.value
                      : l.value * r.value,
          })),
        expr(depth - 1).map((e) => ({
          text: `-${e.text}`,
          value: e.value === null ? null : -e.value,
        })),
      ),
);

describe("formulas", () => {
  it("evaluate like arithmetic, with null for division by zero", () => {
    fc.assert(
      fc.property(expr(5), (e) => {
        const got = evaluateFormula(parseFormula(e.text), values);
        if (e.value === null) expect(got).toBeNull();
        else expect(got).toBeCloseTo(e.value, 6);
      }),
      { numRuns: 500 },
    );
  });

  it("follow precedence and parentheses", () => {
    expect(evaluateFormula(parseFormula("a + c * 2"), values)).toBe(18);
    expect(evaluateFormula(parseFormula("(a + c) * 2"), values)).toBe(21);
    expect(evaluateFormula(parseFormula("a - 1 - 1"), values)).toBe(1);
    expect(evaluateFormula(parseFormula("missing + 1"), values)).toBeNull();
  });

  it("never throw anything but FormulaError on arbitrary text, and never evaluate it as code", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        try {
          parseFormula(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FormulaError);
        }
      }),
      { numRuns: 1000 },
    );
    expect(() => parseFormula("constructor.constructor('x')()")).toThrow(FormulaError);
    expect(() => parseFormula("(".repeat(100) + "a" + ")".repeat(100))).toThrow(/nested deeper/);
  });
});

describe("attribution", () => {
  const DAY = 86_400_000;
  const touches = fc.array(
    fc.record({
      profileId: fc.constantFrom("p1", "p2"),
      at: fc.integer({ min: 0, max: 20 }).map((d) => d * DAY),
      messageId: fc.constantFrom("m1", "m2", "m3", "m4"),
      journey: fc.constantFrom("j1", "j2", "j3"),
    }),
    { maxLength: 12 },
  );
  const conversions = fc.array(
    fc.record({
      profileId: fc.constantFrom("p1", "p2", "p3"),
      at: fc.integer({ min: 0, max: 25 }).map((d) => d * DAY + 1),
      value: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
    }),
    { maxLength: 6 },
  );

  it("every model hands out exactly the attributed conversions and value", () => {
    fc.assert(
      fc.property(
        conversions,
        touches,
        fc.constantFrom("first", "last", "linear" as const),
        fc.integer({ min: 1, max: 10 }),
        (cs: Conversion[], ts: Touch[], model, days) => {
          // One journey per message, as in real data.
          const journeyOf = new Map<string, string>();
          const consistent = ts.map((t) => ({
            ...t,
            journey:
              journeyOf.get(t.messageId) ?? (journeyOf.set(t.messageId, t.journey), t.journey),
          }));
          const r = attribute(cs, consistent, days * DAY, model);
          const credited = [...r.byJourney.values()].reduce((s, c) => s + c.conversions, 0);
          const value = [...r.byJourney.values()].reduce((s, c) => s + c.value, 0);
          expect(credited).toBeCloseTo(r.attributed, 6);
          expect(value).toBeCloseTo(r.attributedValue, 6);
          expect(r.attributed + r.unattributed).toBe(cs.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("time zone steps", () => {
  it("find the DST changes of a year to the second", () => {
    const start = Date.UTC(2026, 0, 1);
    const steps = offsetSteps(start, Date.UTC(2027, 0, 1), "Europe/Amsterdam");
    expect(steps).toEqual([
      { until: Date.UTC(2026, 2, 29, 1), offset: 3_600_000 },
      { until: Date.UTC(2026, 9, 25, 1), offset: 7_200_000 },
      { until: null, offset: 3_600_000 },
    ]);
    expect(offsetSteps(start, Date.UTC(2027, 0, 1), "Asia/Kathmandu")).toEqual([
      { until: null, offset: 5.75 * 3_600_000 },
    ]);
  });

  it("give the local day of any instant (what SQL computes from them)", () => {
    const start = Date.UTC(2026, 0, 1);
    const end = Date.UTC(2027, 0, 1);
    for (const tz of [
      "America/New_York",
      "Australia/Lord_Howe",
      "Europe/Amsterdam",
      "Pacific/Chatham",
    ]) {
      const steps = offsetSteps(start, end, tz);
      fc.assert(
        fc.property(fc.integer({ min: start, max: end - 1 }), (at) => {
          const offset = steps.find((s) => s.until === null || at < s.until)!.offset;
          expect(new Date(at + offset).toISOString().slice(0, 10)).toBe(dayKey(at, tz));
          expect(offset).toBe(offsetAt(at, tz));
        }),
        { numRuns: 200 },
      );
    }
  });

  it("list ISO weeks from their Mondays and months by YYYY-MM", () => {
    const range = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 3) };
    expect(bucketKeys(range, "week", "UTC")).toEqual([
      "2026-10-26",
      "2026-11-02",
      "2026-11-09",
      "2026-11-16",
      "2026-11-23",
      "2026-11-30",
    ]);
    expect(bucketKeys(range, "month", "UTC")).toEqual(["2026-11", "2026-12"]);
  });
});

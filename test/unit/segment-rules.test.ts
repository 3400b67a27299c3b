import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { durationMs, evaluate, type RuleEvent, validateRule } from "../../worker/segments/rules";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 24);
const purchases = (...daysAgo: number[]): RuleEvent[] =>
  daysAgo.map((d) => ({ type: "purchase", at: NOW - d * DAY, data: { amount: d * 10 } }));

describe("segment rules", () => {
  it("evaluates the spec's example: gold and 2 purchases in 30 days", () => {
    const rule = validateRule({
      all: [
        { attr: "loyalty.tier", op: "eq", value: "gold" },
        { event: "purchase", within: "P30D", count: { gte: 2 } },
      ],
    });
    expect(rule.ok).toBe(true);
    if (!rule.ok) return;
    expect(
      evaluate(
        rule.rule,
        { attributes: { loyalty: { tier: "gold" } }, events: purchases(1, 10) },
        NOW,
      ).match,
    ).toBe(true);
    expect(
      evaluate(
        rule.rule,
        { attributes: { loyalty: { tier: "gold" } }, events: purchases(1, 40) },
        NOW,
      ).match,
    ).toBe(false);
    expect(
      evaluate(
        rule.rule,
        { attributes: { loyalty: { tier: "silver" } }, events: purchases(1, 10) },
        NOW,
      ).match,
    ).toBe(false);
    // It can change without new data when the older purchase leaves the window.
    expect(
      evaluate(
        rule.rule,
        { attributes: { loyalty: { tier: "gold" } }, events: purchases(1, 10) },
        NOW,
      ).recheckAt,
    ).toBe(NOW - 10 * DAY + 30 * DAY + 1);
  });

  it("supports every attribute op, any/not, and where on event data", () => {
    const subject = {
      attributes: { age: 42, city: "Amsterdam", tags: ["vip", "eu"], consent: { marketing: "y" } },
      events: purchases(2, 3),
    };
    const t = (rule: unknown) => {
      const v = validateRule(rule);
      if (!v.ok) throw new Error(JSON.stringify(v.details));
      return evaluate(v.rule, subject, NOW).match;
    };
    expect(t({ attr: "age", op: "gt", value: 40 })).toBe(true);
    expect(t({ attr: "age", op: "lte", value: 41 })).toBe(false);
    expect(t({ attr: "city", op: "in", value: ["Utrecht", "Amsterdam"] })).toBe(true);
    expect(t({ attr: "city", op: "startsWith", value: "ams" })).toBe(true);
    expect(t({ attr: "tags", op: "contains", value: "vip" })).toBe(true);
    expect(t({ attr: "phone", op: "exists" })).toBe(false);
    expect(t({ attr: "city", op: "ne", value: "Delft" })).toBe(true);
    expect(t({ not: { attr: "consent.marketing", op: "eq", value: "n" } })).toBe(true);
    expect(
      t({
        any: [
          { attr: "age", op: "lt", value: 18 },
          { attr: "tags", op: "contains", value: "eu" },
        ],
      }),
    ).toBe(true);
    expect(t({ event: "purchase", where: { attr: "amount", op: "gte", value: 25 } })).toBe(true);
    expect(t({ event: "purchase", where: { attr: "amount", op: "gte", value: 100 } })).toBe(false);
    expect(t({ event: "refund" })).toBe(false);
    expect(t({ event: "purchase", count: { eq: 2 } })).toBe(true);
  });

  it("rejects unknown ops, bad paths and bad durations with paths", () => {
    const bad = (rule: unknown) => {
      const v = validateRule(rule);
      if (v.ok) throw new Error("expected invalid");
      return v.details;
    };
    expect(bad({ attr: "x", op: "matches", value: 1 })[0]!.path).toMatch(/^rule/);
    expect(bad({ all: [{ event: "purchase", within: "30 days" }] })).toEqual([
      { path: "rule.all[0].within", message: expect.stringContaining("ISO-8601") },
    ]);
    expect(bad({ attr: "a..b", op: "eq", value: 1 }).length).toBeGreaterThan(0);
    expect(bad({ attr: "x", op: "eq" })[0]!.path).toBe("rule.value");
    expect(bad({ attr: "x", op: "in", value: 3 })[0]!.path).toBe("rule.value");
    expect(bad({ nonsense: true }).length).toBeGreaterThan(0);
  });

  it("parses ISO-8601 durations", () => {
    expect(durationMs("P30D")).toBe(30 * DAY);
    expect(durationMs("PT12H")).toBe(12 * 3600_000);
    expect(durationMs("P1W")).toBe(7 * DAY);
    expect(durationMs("P1DT30M")).toBe(DAY + 1800_000);
    expect(durationMs("P")).toBeUndefined();
    expect(durationMs("30D")).toBeUndefined();
  });

  it("a window condition is true exactly while enough events are inside it; nothing changes before recheckAt (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (days, needed, fraction) => {
          const v = validateRule({ event: "purchase", within: "P30D", count: { gte: needed } });
          if (!v.ok) throw new Error();
          const events = purchases(...days);
          const inWindow = days.filter((d) => d <= 30).length;
          const result = evaluate(v.rule, { attributes: {}, events }, NOW);
          expect(result.match).toBe(inWindow >= needed);
          if (result.recheckAt !== undefined) {
            expect(result.recheckAt).toBeGreaterThan(NOW);
            // Without new data the outcome cannot change before recheckAt…
            const between = NOW + Math.floor((result.recheckAt - 1 - NOW) * fraction);
            expect(evaluate(v.rule, { attributes: {}, events }, between).match).toBe(result.match);
            // …and at recheckAt the oldest counted event has left the window.
            const counted = (t: number) =>
              events.filter((e) => e.at >= t - 30 * DAY && e.at <= t).length;
            expect(counted(result.recheckAt)).toBe(
              counted(NOW) -
                days.filter(
                  (d) =>
                    d <= 30 &&
                    NOW - d * DAY ===
                      Math.min(...events.filter((e) => e.at >= NOW - 30 * DAY).map((e) => e.at)),
                ).length,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

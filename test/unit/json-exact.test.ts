/**
 * JSON parsing that never changes a number silently (shared/json-exact.ts): a literal a double
 * cannot hold as sent becomes an `InexactNumber`, wherever it sits and whatever the strings
 * around it hold — the quick check that skips the slow path must never skip one.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InexactNumber, isExactLiteral, parseJsonExact } from "../../shared/json-exact";

const INEXACT = [
  "1e309",
  "-1e309",
  "1e-400",
  "-0",
  "-0.0",
  "-0.000",
  "9007199254740993",
  "12345678.123456789",
  "18446744073709551617",
  "0.1000000000000000055511151231257827",
];
const EXACT = [
  "0",
  "0.1",
  "-0.5",
  "-0.05",
  "1.50",
  "2e3",
  "1E2",
  "0.30000000000000004",
  "9007199254740992",
  "-10",
  "123456789012345",
];

/** Where a literal can sit, with whitespace JSON allows around it. */
const placements = [
  (n: string) => n,
  (n: string) => ` ${n}`,
  (n: string) => `{"a":${n}}`,
  (n: string) => `{"a": ${n} ,"b":"x"}`,
  (n: string) => `[1,${n}]`,
  (n: string) => `[ ${n}]`,
  (n: string) => `{"a":{"b":[true,\n\t${n}]}}`,
];

const found = (value: unknown): unknown[] =>
  value instanceof InexactNumber
    ? [value]
    : value && typeof value === "object"
      ? Object.values(value).flatMap(found)
      : [];

describe("parseJsonExact", () => {
  it("marks every literal a double cannot hold, in every position", () => {
    for (const literal of INEXACT) {
      const value = Number(literal);
      expect(!isExactLiteral(literal, value) || Object.is(value, -0)).toBe(true);
      for (const place of placements) {
        const markers = found(parseJsonExact(place(literal)));
        expect({ text: place(literal), markers: markers.length }).toEqual({
          text: place(literal),
          markers: 1,
        });
      }
    }
  });

  it("keeps exact literals as numbers, and strings that look like numbers as strings", () => {
    for (const literal of EXACT)
      for (const place of placements)
        expect(parseJsonExact(place(literal))).toEqual(JSON.parse(place(literal)));
    const strings = `{"device":"device-000123-00","at":"2026-01-05T10:00:00Z","id":"3e4f-1e309","n":":-0"}`;
    expect(parseJsonExact(strings)).toEqual(JSON.parse(strings));
  });

  it("agrees with JSON.parse plus the exactness rule on random documents", () => {
    const literal = fc.oneof(
      fc.constantFrom(...INEXACT, ...EXACT),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), literal), { maxLength: 6 }),
        fc.array(fc.string(), { maxLength: 4 }),
        (fields, noise) => {
          const text = `{${[
            ...fields.map(([k, n], i) => `${JSON.stringify(`${k}${i}`)}: ${n}`),
            `"noise": ${JSON.stringify(noise)}`,
          ].join(", ")}}`;
          const parsed = parseJsonExact(text) as Record<string, unknown>;
          const plain = JSON.parse(text) as Record<string, unknown>;
          fields.forEach(([k, n], i) => {
            const key = `${k}${i}`;
            const exact = isExactLiteral(n, Number(n)) && !Object.is(Number(n), -0);
            if (exact) expect(parsed[key]).toBe(plain[key]);
            else expect(parsed[key]).toBeInstanceOf(InexactNumber);
          });
          expect(parsed.noise).toEqual(noise);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

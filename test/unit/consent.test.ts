/**
 * Consent's plain core (SPEC §8): defaults, the conflict rule, GPC, Segment categories and
 * browser choices — and that the rule never depends on the order identities are listed in.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CONSENT,
  effectiveSettings,
  fromBrowser,
  fromCategories,
  gpcChoices,
  grantsAll,
  profileConsent,
} from "../../worker/consent/merge";
import type { ConsentChoice } from "../../worker/model/consent";

const choice = (status: "granted" | "denied", at: number, source = "api"): ConsentChoice => ({
  status,
  at,
  source,
});

describe("consent", () => {
  it("defaults: built-in purposes granted, marketing follows GPC; stored settings keep unlisted built-ins", () => {
    expect(profileConsent(DEFAULT_CONSENT, [])).toEqual({
      analytics: { status: "granted", at: null, source: "default" },
      personalization: { status: "granted", at: null, source: "default" },
      marketing: { status: "granted", at: null, source: "default" },
    });
    expect(gpcChoices(DEFAULT_CONSENT)).toEqual({ marketing: "denied" });
    const stored = effectiveSettings({
      purposes: [
        { id: "analytics", default: "denied" },
        { id: "research", default: "denied" },
      ],
      conflict: "latest",
    });
    expect(stored.purposes.map((p) => p.id).sort()).toEqual([
      "analytics",
      "marketing",
      "personalization",
      "research",
    ]);
    expect(stored.purposes.find((p) => p.id === "analytics")!.default).toBe("denied");
  });

  it("most-restrictive: any denial denies; latest: the newest choice wins", () => {
    const a = { marketing: choice("denied", 1) };
    const b = { marketing: choice("granted", 2) };
    expect(
      profileConsent({ ...DEFAULT_CONSENT, conflict: "most-restrictive" }, [a, b]).marketing,
    ).toEqual(choice("denied", 1));
    expect(profileConsent({ ...DEFAULT_CONSENT, conflict: "latest" }, [a, b]).marketing).toEqual(
      choice("granted", 2),
    );
    expect(grantsAll(profileConsent(DEFAULT_CONSENT, [b]), ["marketing", "analytics"])).toBe(true);
    expect(grantsAll(profileConsent(DEFAULT_CONSENT, [a]), ["marketing"])).toBe(false);
    expect(grantsAll(undefined, undefined)).toBe(true);
  });

  it("the order of identities never changes a profile's consent", () => {
    const arbChoices = fc.array(
      fc.dictionary(
        fc.constantFrom("analytics", "marketing"),
        fc.record({
          status: fc.constantFrom("granted" as const, "denied" as const),
          at: fc.integer({ min: 0, max: 20 }),
          source: fc.constantFrom("api", "gpc"),
        }),
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(
        arbChoices,
        fc.constantFrom("most-restrictive" as const, "latest" as const),
        (choices, conflict) => {
          const settings = { ...DEFAULT_CONSENT, conflict };
          const status = (list: typeof choices) =>
            Object.fromEntries(
              Object.entries(profileConsent(settings, list)).map(([p, c]) => [p, c.status]),
            );
          expect(status([...choices].reverse())).toEqual(status(choices));
        },
      ),
    );
  });

  it("Segment categories map through the settings; browsers send booleans or statuses", () => {
    const settings = {
      ...DEFAULT_CONSENT,
      categories: { Advertising: "marketing", Analytics: "analytics" },
    };
    expect(
      fromCategories(settings, {
        Advertising: false,
        Analytics: true,
        Functional: true,
        Other: "yes",
      }),
    ).toEqual({ marketing: "denied", analytics: "granted" });
    expect(fromBrowser({ analytics: true, marketing: "denied", personalization: false })).toEqual({
      analytics: "granted",
      marketing: "denied",
      personalization: "denied",
    });
  });
});

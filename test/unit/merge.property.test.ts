import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MergePolicy } from "../../worker/model/profiles";
import { type FragmentInput, mergeFragments } from "../../worker/profiles/merge";

const timestamp: MergePolicy = { name: "t", type: "timestamp", datasets: [], idStitching: "graph" };
const T1 = Date.UTC(2026, 0, 1);

describe("merge engine: scenarios", () => {
  const crm: FragmentInput = {
    dataset: "crm",
    namespace: "crm",
    value: "1",
    attributes: { firstName: "John", address: { city: "Delft" } },
    updatedAt: T1,
  };
  const loyalty: FragmentInput = {
    dataset: "loyalty",
    namespace: "loyalty",
    value: "L1",
    attributes: { firstName: "Johnny", loyalty: { tier: "gold" } },
    updatedAt: T1 + 1000,
  };

  it("timestamp: the most recently written fragment wins, with provenance", () => {
    const merged = mergeFragments([crm, loyalty], timestamp);
    expect(merged.attributes).toEqual({
      firstName: "Johnny",
      address: { city: "Delft" },
      loyalty: { tier: "gold" },
    });
    expect(merged.provenance.firstName).toEqual({
      dataset: "loyalty",
      identity: { namespace: "loyalty", id: "L1" },
      timestamp: new Date(T1 + 1000).toISOString(),
    });
    expect(merged.provenance["address.city"]!.dataset).toBe("crm");
  });

  it("dataset-precedence: the first listed dataset that has the attribute wins", () => {
    const merged = mergeFragments([crm, loyalty], {
      ...timestamp,
      type: "dataset-precedence",
      datasets: ["crm"],
    });
    expect(merged.attributes.firstName).toBe("John");
    expect(merged.attributes.loyalty).toEqual({ tier: "gold" });
  });

  it("merges at leaf level; arrays are leaves; a leaf blocks a deeper path below it", () => {
    const a: FragmentInput = {
      dataset: "a",
      namespace: "crm",
      value: "1",
      attributes: { tags: ["x"], address: "Main St 1", prefs: { mail: true } },
      updatedAt: T1 + 5,
    };
    const b: FragmentInput = {
      dataset: "b",
      namespace: "crm",
      value: "1",
      attributes: { tags: ["y", "z"], address: { city: "Delft" }, prefs: { sms: false } },
      updatedAt: T1,
    };
    expect(mergeFragments([b, a], timestamp).attributes).toEqual({
      tags: ["x"],
      address: "Main St 1",
      prefs: { mail: true, sms: false },
    });
  });
});

const leafValue = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.integer({ min: 0, max: 9 }),
  fc.boolean(),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
);
const tree: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
  node: fc.dictionary(
    fc.constantFrom("a", "b", "c", "d"),
    fc.oneof({ depthSize: "small" }, leafValue, tie("node")),
    { maxKeys: 3 },
  ),
})).node as fc.Arbitrary<Record<string, unknown>>;
const fragment: fc.Arbitrary<FragmentInput> = fc.record({
  dataset: fc.constantFrom("crm", "loyalty", "web", "shop"),
  namespace: fc.constantFrom("crm", "email"),
  value: fc.constantFrom("1", "2"),
  attributes: tree,
  updatedAt: fc.integer({ min: 0, max: 5 }),
});
// Distinct (dataset, identity): one fragment each, as stored.
const fragments = fc.uniqueArray(fragment, {
  selector: (f) => `${f.dataset}|${f.namespace}|${f.value}`,
  maxLength: 6,
});

describe("merge engine: properties", () => {
  it("the result does not depend on fragment storage order", () => {
    const precedence: MergePolicy = {
      ...timestamp,
      type: "dataset-precedence",
      datasets: ["web", "crm"],
    };
    fc.assert(
      fc.property(fragments, fc.constantFrom(timestamp, precedence), (fs, policy) => {
        const forward = mergeFragments(fs, policy);
        const backward = mergeFragments([...fs].reverse(), policy);
        expect(backward).toEqual(forward);
      }),
      { numRuns: 300 },
    );
  });

  it("dataset-precedence with one dataset listed equals that dataset's fragments laid over the rest", () => {
    fc.assert(
      fc.property(fragments, fc.constantFrom("crm", "loyalty", "web", "shop"), (fs, listed) => {
        const merged = mergeFragments(fs, {
          ...timestamp,
          type: "dataset-precedence",
          datasets: [listed],
        });
        const top = mergeFragments(
          fs.filter((f) => f.dataset === listed),
          timestamp,
        ).attributes;
        const rest = mergeFragments(
          fs.filter((f) => f.dataset !== listed),
          timestamp,
        ).attributes;
        // Every leaf of the listed dataset's merge survives unchanged.
        const check = (node: Record<string, unknown>, against: Record<string, unknown>) => {
          for (const [k, v] of Object.entries(node)) {
            if (
              v !== null &&
              typeof v === "object" &&
              !Array.isArray(v) &&
              Object.keys(v).length > 0
            )
              check(v as Record<string, unknown>, against[k] as Record<string, unknown>);
            else expect(against[k]).toEqual(v);
          }
        };
        check(top, merged.attributes);
        // And where the listed dataset says nothing, the rest decides.
        if (Object.keys(top).length === 0) expect(merged.attributes).toEqual(rest);
      }),
      { numRuns: 300 },
    );
  });

  it("with one fragment, the merge is that fragment (minus empty objects), and inputs are never changed", () => {
    const pruned = (t: Record<string, unknown>): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(t)) {
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
          const inner = pruned(v as Record<string, unknown>);
          if (Object.keys(inner).length > 0) out[k] = inner;
        } else out[k] = v;
      }
      return out;
    };
    fc.assert(
      fc.property(fragment, fragments, (f, others) => {
        expect(mergeFragments([f], timestamp).attributes).toEqual(pruned(f.attributes));
        const before = structuredClone(others);
        mergeFragments(others, timestamp);
        expect(others).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});

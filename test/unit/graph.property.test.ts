import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GraphWorkspace } from "../../worker/graph/workspace";
import {
  apply,
  builtInRules,
  canonical,
  ids,
  MemoryStore,
  type Op,
  partitionOf,
} from "./graph-fixtures";

// A small universe, so random items collide, merge and hit caps often.
const UNIVERSE = [
  "crm:1",
  "crm:2",
  "crm:3",
  "loyalty:L1",
  "loyalty:L2",
  "email:a@x.com",
  "email:b@x.com",
  "email:c@x.com",
  "email:d@x.com",
  "phone:+31600000001",
  "phone:+31600000002",
  ...Array.from({ length: 8 }, (_, i) => `device:device-${String(i).padStart(10, "0")}`),
];
const MAX_IDENTITIES = 6;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("observe" as const),
      identities: fc.uniqueArray(fc.constantFrom(...UNIVERSE), { minLength: 1, maxLength: 4 }),
      at: fc.integer({ min: 0, max: 50 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deleteIdentity" as const),
      key: fc.constantFrom(...UNIVERSE),
      at: fc.integer({ min: 0, max: 50 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("deleteLink" as const),
      a: fc.constantFrom(...UNIVERSE),
      b: fc.constantFrom(...UNIVERSE),
      at: fc.integer({ min: 0, max: 50 }),
    }),
  },
);

function checkInvariants(ws: GraphWorkspace) {
  const rules = builtInRules(MAX_IDENTITIES);
  // Every identity is in exactly one graph.
  const seen = new Map<string, string>();
  for (const [profile, members] of ws.members) {
    expect(members.size).toBeGreaterThan(0);
    for (const k of members) {
      expect(seen.has(k)).toBe(false);
      seen.set(k, profile);
      expect(ws.identities.get(k)!.profileId).toBe(profile);
    }
  }
  expect(seen.size).toBe(ws.identities.size);

  for (const [, members] of ws.members) {
    // No graph breaks a cap.
    expect(members.size).toBeLessThanOrEqual(MAX_IDENTITIES);
    const perNs = new Map<string, number>();
    for (const k of members) {
      const ns = ws.identities.get(k)!.namespace;
      perNs.set(ns, (perNs.get(ns) ?? 0) + 1);
    }
    for (const [ns, n] of perNs) expect(n).toBeLessThanOrEqual(rules.namespaces.get(ns)!.cap);

    // A graph is exactly one connected component of the applied links.
    const reached = new Set<string>([[...members][0]!]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const l of ws.links.values()) {
        if (!l.applied) continue;
        if (reached.has(l.a) !== reached.has(l.b)) {
          reached.add(l.a);
          reached.add(l.b);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...members].sort());
  }
  for (const l of ws.links.values()) {
    if (l.applied) expect(ws.profileOf(l.a)).toBe(ws.profileOf(l.b));
  }
}

describe("identity graph properties", () => {
  it("invariants hold after every operation", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const ws = new GraphWorkspace(builtInRules(MAX_IDENTITIES), ids());
        for (const op of ops) {
          apply(ws, op);
          checkInvariants(ws);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the result does not depend on batch boundaries (or on loading only touched graphs)", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 40 }),
        (ops, cuts) => {
          const whole = new GraphWorkspace(builtInRules(MAX_IDENTITIES), ids());
          ops.forEach((op) => apply(whole, op));

          const store = new MemoryStore(builtInRules(MAX_IDENTITIES));
          let i = 0;
          let c = 0;
          while (i < ops.length) {
            const size = cuts[c++ % cuts.length]!;
            store.call(ops.slice(i, i + size));
            i += size;
          }
          expect(store.partition()).toEqual(partitionOf(whole));
          expect(canonical(store.partition())).toEqual(store.partition());
        },
      ),
      { numRuns: 300 },
    );
  });
});

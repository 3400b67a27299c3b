/**
 * Owner shards with the writer's real code (test/unit/shard-harness.ts): calls go to the
 * shard hosting their first identity's index bucket, which applies them in its own store
 * when every identity lives there or is new with its index bucket there, and hands them to
 * the coordinator otherwise. Whatever the placement, the result must equal one writer
 * applying the same calls in the same order (SPEC rule 6), and D1 — fed by the shards'
 * commits and the coordinator's decisions — must equal the shards' stores together.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SegmentDef } from "../../worker/db/queries/segments";
import type { IngestCommand, NormalizedItem } from "../../worker/ingest/types";
import { profileBucket } from "../../worker/shards/placement";
import { normalized, shardedWriters, singleWriter } from "./shard-harness";

const KEYS = [
  "crm:1",
  "crm:2",
  "email:a@x.io",
  "email:b@x.io",
  "email:c@x.io",
  "phone:+15550001",
  "device:d1",
  "device:d2",
  "device:d3",
  "device:d4",
  "device:d5",
];

const ref = (key: string) => {
  const at = key.indexOf(":");
  return { namespace: key.slice(0, at), value: key.slice(at + 1) };
};

type Spec =
  | { kind: "record"; keys: string[]; tier: string; at: number }
  | { kind: "event"; keys: string[]; id: number; at: number }
  | { kind: "link"; keys: string[]; at: number };

function command(spec: Spec): IngestCommand {
  const base = { index: 0, identities: spec.keys.map(ref), at: spec.at };
  const item: NormalizedItem =
    spec.kind === "record"
      ? { ...base, kind: "record", dataset: "crm", attributes: { tier: spec.tier, seen: spec.at } }
      : spec.kind === "event"
        ? {
            ...base,
            kind: "event",
            dataset: "web",
            event: { id: `e${spec.id}`, type: "page.view", data: { n: spec.id } },
          }
        : { ...base, kind: "link", dataset: "web" };
  return { items: [item], atomic: true, receivedAt: spec.at };
}

const keysArb = fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 });
/** Step `i`: a record, an event (id unique to the step), a link, or a resend of an earlier event (same id, same identities). */
const stepArb = (i: number): fc.Arbitrary<Spec | { kind: "resend"; of: number }> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("record" as const),
      keys: keysArb,
      tier: fc.constantFrom("gold", "silver"),
      at: fc.constant(1_000 + i),
    }),
    fc.record({
      kind: fc.constant("event" as const),
      keys: keysArb,
      id: fc.constant(i),
      at: fc.constant(1_000 + i),
    }),
    fc.record({ kind: fc.constant("link" as const), keys: keysArb, at: fc.constant(1_000 + i) }),
    fc.record({ kind: fc.constant("resend" as const), of: fc.nat() }),
  );
const scriptArb = fc
  .integer({ min: 1, max: 25 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => stepArb(i))))
  .map((steps) => {
    const specs: Spec[] = [];
    for (const step of steps) {
      if (step.kind !== "resend") specs.push(step);
      else {
        const events = specs.filter((s) => s.kind === "event");
        if (events.length > 0) specs.push(events[step.of % events.length]!);
      }
    }
    return specs;
  });

/** Segments on an attribute and on an event count, so memberships move and change with merges. */
const SEGMENTS: SegmentDef[] = [
  { id: "gold", rule: { attr: "tier", op: "eq", value: "gold" }, public: false, version: 1 },
  { id: "viewers", rule: { event: "page.view", count: { gte: 2 } }, public: true, version: 1 },
];

async function runBoth(specs: Spec[], shardCount: number) {
  const sharded = await shardedWriters(shardCount, SEGMENTS);
  const single = await singleWriter(SEGMENTS);
  const answers: { sharded: unknown; single: unknown }[] = [];
  for (const spec of specs) {
    const a = await sharded.ingest(command(spec));
    const b = await single.apply(command(spec));
    // Profile ids are random: compare statuses.
    answers.push({
      sharded: a.outcomes.map((o) => o.status),
      single: b.outcomes.map((o) => o.status),
    });
  }
  return { sharded, single, answers };
}

function checkInvariants(sharded: Awaited<ReturnType<typeof shardedWriters>>) {
  for (const [s, shard] of sharded.shards.entries()) {
    const homes = shard.db.prepare("SELECT id FROM profiles").all() as { id: string }[];
    for (const { id } of homes)
      expect(sharded.placement.ownerOf(profileBucket(id)), `${id} on shard ${s}`).toBe(s);
    expect(shard.participant.anyFrozen()).toBe(false);
    expect(
      shard.db.prepare("SELECT count(*) AS n FROM _shard_index WHERE state = 'reserved'").get(),
    ).toEqual({ n: 0 });
  }
  // Every identity is held by exactly one shard.
  const held = sharded.shards.flatMap((s) =>
    (
      s.db.prepare("SELECT namespace || ':' || value AS k FROM identities").all() as { k: string }[]
    ).map((r) => r.k),
  );
  expect(new Set(held).size).toBe(held.length);
}

describe("owner shards running the writer's code", () => {
  it("a login that joins a device profile to a customer homed on another shard goes through the coordinator and equals one writer", async () => {
    const specs: Spec[] = [
      { kind: "record", keys: ["crm:1", "email:a@x.io"], tier: "gold", at: 1_000 },
      { kind: "event", keys: ["device:d1"], id: 1, at: 1_001 },
      { kind: "event", keys: ["device:d2"], id: 2, at: 1_002 },
      { kind: "event", keys: ["device:d1", "email:a@x.io"], id: 3, at: 1_003 },
      { kind: "event", keys: ["device:d2", "crm:1"], id: 4, at: 1_004 },
      { kind: "event", keys: ["device:d1"], id: 5, at: 1_005 },
      { kind: "event", keys: ["device:d1"], id: 5, at: 1_006 },
    ];
    const { sharded, single, answers } = await runBoth(specs, 4);
    for (const a of answers) expect(a.sharded).toEqual(a.single);
    expect(answers.at(-1)!.sharded).toEqual(["duplicate"]);
    expect(sharded.routes).toContain("coordinator");
    const dbs = sharded.shards.map((s) => s.db);
    expect(normalized(dbs)).toEqual(normalized([single.db]));
    expect(normalized([sharded.d1])).toEqual(normalized([single.d1]));
    expect(normalized([sharded.d1])).toEqual(normalized(dbs));
    expect(normalized(dbs).components).toEqual(["crm:1,device:d1,device:d2,email:a@x.io"]);
    expect(normalized(dbs).memberships).toEqual([
      "gold crm:1,device:d1,device:d2,email:a@x.io realized",
      "viewers crm:1,device:d1,device:d2,email:a@x.io realized",
    ]);
    checkInvariants(sharded);
  });

  it("any sequence of records, events and links gives what one writer gives, at 1 and 4 shards; D1 equals the shards together", async () => {
    const routes: string[] = [];
    await fc.assert(
      fc.asyncProperty(scriptArb, fc.constantFrom(1, 4), async (specs, shardCount) => {
        const { sharded, single, answers } = await runBoth(specs, shardCount);
        routes.push(...sharded.routes);
        for (const a of answers) expect(a.sharded).toEqual(a.single);
        const dbs = sharded.shards.map((s) => s.db);
        expect(normalized(dbs)).toEqual(normalized([single.db]));
        expect(normalized([sharded.d1])).toEqual(normalized(dbs));
        expect(normalized([sharded.d1])).toEqual(normalized([single.d1]));
        checkInvariants(sharded);
      }),
      { numRuns: 60 },
    );
    // The runs did cross shards (about half the calls at 4 shards go through the coordinator).
    expect(routes.filter((r) => r === "coordinator").length).toBeGreaterThan(routes.length / 10);
  }, 120_000);
});

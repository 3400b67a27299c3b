/**
 * The write lane's guarantees (issue 14), through the public API:
 * - randomized concurrent histories of mixed calls (ingest with links across caps,
 *   atomic calls with a bad item, identity and link deletes, erase) end in exactly the
 *   state of replaying the same calls one by one in the writer's commit order;
 * - a call that returns 200 is visible to the next lookup;
 * - a D1 failure of one group loses no accepted item and fails no innocent call.
 */
import { env, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type GraphCoordinator,
  type GraphWriter,
  graphCoordinator,
  shardWriter,
} from "../../worker/writer/client";
import type { JournalEntry } from "../../worker/writer/types";
import { api, id, lookup, putSegment, send } from "../helpers";
import {
  coordinatorJournalLength,
  everyWriter,
  indexShardOf,
  keysOnShard,
  SHARDS,
  startJournals,
  takeJournals,
} from "../shards";

const T0 = Date.parse("2026-06-01T00:00:00Z");

type Ref = [namespace: string, value: string];
type Op =
  | {
      kind: "events";
      tag: string;
      atomic: boolean;
      items: { refs: Ref[]; type: string; bad?: boolean }[];
    }
  | { kind: "records"; tag: string; refs: Ref[]; attributes: Record<string, unknown> }
  | { kind: "deleteIdentity"; ref: Ref }
  | { kind: "deleteLink"; a: Ref; b: Ref }
  | { kind: "erase"; ref: Ref };

// A small pool, so calls collide: crm is unique, email capped at 2 per graph in this file.
const ref: fc.Arbitrary<Ref> = fc.oneof(
  fc.constantFrom<Ref>(["crm", "c0"], ["crm", "c1"], ["crm", "c2"]),
  fc.constantFrom<Ref>(
    ["email", "e0@x.test"],
    ["email", "e1@x.test"],
    ["email", "e2@x.test"],
    ["email", "e3@x.test"],
  ),
  fc.constantFrom<Ref>(
    ["device", "d0-000000000000"],
    ["device", "d1-000000000000"],
    ["device", "d2-000000000000"],
  ),
  fc.constantFrom<Ref>(["loyalty", "l0"], ["loyalty", "l1"]),
);
const refs = fc.uniqueArray(ref, { minLength: 1, maxLength: 3, selector: (r) => r.join(":") });

const opArb = (tag: string): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant("events" as const),
        tag: fc.constant(tag),
        atomic: fc.boolean(),
        items: fc.array(
          fc.record({
            refs,
            type: fc.constantFrom("purchase", "page.view"),
            bad: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("records" as const),
        tag: fc.constant(tag),
        refs,
        attributes: fc.record({
          firstName: fc.constantFrom("Ann", "Bob", "Cy"),
          tier: fc.constantFrom("gold", "silver", null),
        }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("deleteIdentity" as const), ref }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("deleteLink" as const), a: ref, b: ref }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("erase" as const), ref }) },
  );

const history = fc
  .integer({ min: 15, max: 35 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => opArb(`t${i}`))));

const value = (prefix: string, [, v]: Ref) => `${prefix}${v}`;
const idOf = (prefix: string, r: Ref) => id(r[0], value(prefix, r));
const param = (prefix: string, r: Ref) => ({ namespace: r[0], id: value(prefix, r) });

/** Sends one op with identity values (and event ids) under `prefix`; returns the HTTP status. */
async function perform(op: Op, prefix: string, index: number): Promise<number> {
  const at = new Date(T0 + index * 1000).toISOString();
  switch (op.kind) {
    case "events": {
      const events = op.items.map((it, k) => ({
        id: `${prefix}${op.tag}-${k}`,
        type: it.type,
        timestamp: at,
        identities: it.bad ? [id("email", "not an email")] : it.refs.map((r) => idOf(prefix, r)),
        data: { tag: op.tag },
      }));
      return (
        await send(
          api.v1.events.$post({ query: op.atomic ? { atomic: "true" } : {}, json: { events } }),
        )
      ).status;
    }
    case "records":
      return (
        await send(
          api.v1.records.$post({
            query: {},
            json: {
              dataset: "default",
              timestamp: at,
              identities: op.refs.map((r) => idOf(prefix, r)),
              attributes: { ...op.attributes, tag: op.tag },
            },
          }),
        )
      ).status;
    case "deleteIdentity":
      return (
        await send(api.v1.identities[":namespace"][":id"].$delete({ param: param(prefix, op.ref) }))
      ).status;
    case "deleteLink":
      return (
        await send(
          api.v1.links.$delete({
            query: {
              from: `${op.a[0]}:${value(prefix, op.a)}`,
              to: `${op.b[0]}:${value(prefix, op.b)}`,
            },
          }),
        )
      ).status;
    case "erase":
      return (
        await send(
          api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
            param: param(prefix, op.ref),
            query: {},
          }),
        )
      ).status;
  }
}

/** Which op a journal entry is (by tag for ingest, by kind and identities for the rest). */
function entryKey(entry: JournalEntry, prefix: string): string {
  const strip = (v: string) => v.slice(prefix.length);
  if (entry.kind === "ingest") {
    const item = entry.command.items[0]!;
    const tag = item.event
      ? /^(t\d+)-/.exec(strip(item.event.id))![1]!
      : String(item.attributes?.tag);
    return `ingest:${tag}`;
  }
  return `${entry.kind}:${entry.refs.map((r) => `${r.namespace}:${strip(r.value)}`).join("|")}`;
}

function opKey(op: Op, normalize: (r: Ref) => string): string {
  switch (op.kind) {
    case "events":
    case "records":
      return `ingest:${op.tag}`;
    case "deleteIdentity":
    case "erase":
      return `${op.kind}:${normalize(op.ref)}`;
    case "deleteLink":
      return `deleteLink:${normalize(op.a)}|${normalize(op.b)}`;
  }
}

const coordinator = () => graphCoordinator(env) as unknown as DurableObjectStub<GraphCoordinator>;

/**
 * Faults on the cross-shard path, each once per transaction it picks: a prepare request
 * lost (the coordinator asks again), a commit's answer lost (it commits again: "already"),
 * D1's answer to a decision lost (it applies again: the transaction's row says it did).
 */
async function injectShardFaults(): Promise<void> {
  for (const writer of everyWriter())
    await runInDurableObject(writer, (instance: GraphWriter) => {
      const lostPrepare = new Set<number>();
      const lostCommit = new Set<number>();
      instance.hooks.beforePrepare = (tx) => {
        if (tx % 3 === 0 && !lostPrepare.has(tx)) {
          lostPrepare.add(tx);
          throw new Error("fault: the prepare request was lost");
        }
      };
      instance.hooks.afterCommitTx = (tx) => {
        if (tx % 4 === 1 && !lostCommit.has(tx)) {
          lostCommit.add(tx);
          throw new Error("fault: the commit's answer was lost");
        }
      };
    });
  await runInDurableObject(coordinator(), (instance: GraphCoordinator) => {
    const lost = new Set<number>();
    instance.hooks.afterProject = (tx) => {
      if (tx % 5 === 2 && !lost.has(tx)) {
        lost.add(tx);
        throw new Error("fault: D1's answer to the decision was lost");
      }
    };
  });
}

/**
 * History entries in id order. Ids come from each writer's own range, so with several
 * shards their order says nothing: then only the entries themselves compare.
 */
const inOrder = (entries: string[]) => (SHARDS > 1 ? entries.sort() : entries);

/** Everything stored under `prefix`, with the prefix and random ids taken out. */
async function snapshot(prefix: string) {
  const like = `${prefix}%`;
  const q = async (sql: string) =>
    (await env.DB.prepare(sql).bind(like).all<Record<string, any>>()).results;
  const strip = (text: string) => text.split(prefix).join("");
  const identities = await q(
    `SELECT namespace, value, profile_id, first_seen, last_seen FROM identities WHERE value LIKE ?1`,
  );
  const byProfile = new Map<string, string[]>();
  for (const i of identities)
    byProfile.set(i.profile_id, [
      ...(byProfile.get(i.profile_id) ?? []),
      `${i.namespace}:${strip(i.value)}`,
    ]);
  const profileRows = await q(
    `SELECT p.id, p.primary_namespace, p.primary_value, p.identity_count, p.display_name FROM profiles p WHERE p.primary_value LIKE ?1`,
  );
  const memberships = await q(
    `SELECT m.profile_id, m.segment_id, m.status FROM memberships m JOIN profiles p ON p.id = m.profile_id WHERE p.primary_value LIKE ?1`,
  );
  const partitionOf = (profileId: string) =>
    JSON.stringify((byProfile.get(profileId) ?? []).sort());
  return {
    identities: identities
      .map((i) => `${i.namespace}:${strip(i.value)} ${i.first_seen} ${i.last_seen}`)
      .sort(),
    profiles: [...byProfile.values()].map((members) => JSON.stringify(members.sort())).sort(),
    profileRows: profileRows
      .map(
        (p) =>
          `${partitionOf(p.id)} primary=${p.primary_namespace}:${strip(p.primary_value)} n=${p.identity_count} name=${p.display_name}`,
      )
      .sort(),
    memberships: memberships
      .map((m) => `${partitionOf(m.profile_id)} ${m.segment_id} ${m.status}`)
      .sort(),
    links: (
      await q(`SELECT a.namespace AS an, a.value AS av, b.namespace AS bn, b.value AS bv, l.dataset, l.first_seen, l.last_seen, l.applied
               FROM links l JOIN identities a ON a.id = l.a_id JOIN identities b ON b.id = l.b_id WHERE a.value LIKE ?1`)
    )
      .map(
        (l) =>
          `${l.an}:${strip(l.av)} ${l.bn}:${strip(l.bv)} ${l.dataset} ${l.first_seen} ${l.last_seen} ${l.applied}`,
      )
      .sort(),
    fragments: (
      await q(
        `SELECT i.namespace, i.value, f.dataset, f.attributes, f.updated_at FROM fragments f JOIN identities i ON i.id = f.identity_id WHERE i.value LIKE ?1`,
      )
    )
      .map((f) => `${f.namespace}:${strip(f.value)} ${f.dataset} ${f.attributes} ${f.updated_at}`)
      .sort(),
    events: (
      await q(
        `SELECT e.id, e.type, e.at, e.data, i.namespace, i.value FROM events e JOIN identities i ON i.id = e.identity_id WHERE e.id LIKE ?1`,
      )
    )
      .map((e) => `${strip(e.id)} ${e.type} ${e.at} ${e.data} ${e.namespace}:${strip(e.value)}`)
      .sort(),
    history: inOrder(
      (
        await q(
          `SELECT kind, identities FROM graph_history WHERE identities LIKE '%' || ?1 ORDER BY id`,
        )
      )
        .filter((h) => JSON.parse(h.identities).every((k: string) => k.includes(prefix)))
        .map((h) => `${h.kind} ${strip(h.identities)}`),
    ),
  };
}

beforeAll(async () => {
  expect(
    await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "email" },
        query: {},
        json: { normalize: "email", unique: false, priority: 80, maxPerGraph: 2 },
      }),
    ),
  ).toHaveStatus(200);
  expect(
    await putSegment("buyers", { name: "buyers", rule: { event: "purchase", count: { gte: 2 } } }),
  ).toHaveStatus(200);
});

describe("group commit", () => {
  // With several shards, every writer and the coordinator keep a journal; their entries
  // carry one counter of commit points, so together they give the order to replay. A
  // non-atomic call may be applied item by item across shards (SPEC §6), so there the
  // events calls are atomic (each is one commit). Faults are injected on the cross-shard
  // path: lost prepare requests, lost commit answers, a lost answer of D1 to a decision.
  it("concurrent histories equal their sequential replay in the order of their commit points", {
    timeout: 600_000,
  }, async () => {
    let run = 0;
    let crossed = 0;
    if (SHARDS > 1) await injectShardFaults();
    await fc.assert(
      fc.asyncProperty(history, async (drawn) => {
        run++;
        const live = `h${run}a-`;
        const replay = `h${run}b-`;
        const ops = drawn.map((op) =>
          SHARDS > 1 && op.kind === "events" ? { ...op, atomic: true } : op,
        );
        await startJournals();
        // Concurrently: every op at once.
        await Promise.all(ops.map((op, i) => perform(op, live, i)));
        crossed += await coordinatorJournalLength();
        const journal = await takeJournals();

        // Sequentially, in the order they were committed; ops that never reached a writer
        // (refused before it) change nothing, so they go last.
        const pending = new Map<string, number[]>();
        ops.forEach((op, i) => {
          const key = opKey(op, (r) => `${r[0]}:${r[1]}`);
          pending.set(key, [...(pending.get(key) ?? []), i]);
        });
        const order: number[] = [];
        for (const entry of journal) {
          if (
            entry.kind === "ingest" &&
            !entry.command.items[0]!.identities.some((r) => r.value.startsWith(live))
          )
            continue;
          const indexes = pending.get(entryKey(entry, live));
          if (indexes?.length) order.push(indexes.shift()!);
        }
        for (const indexes of pending.values()) order.push(...indexes);
        for (const i of order) await perform(ops[i]!, replay, i);

        expect(await snapshot(live)).toEqual(await snapshot(replay));
      }),
      { numRuns: Number(env.LANE_RUNS ?? 8), seed: Number(env.LANE_SEED ?? 42) },
    );
    // Most multi-identity calls name identities born on different shards.
    if (SHARDS > 1) expect(crossed).toBeGreaterThan(run);
  });

  it("a call that returns 200 is visible to the next lookup, under concurrency", async () => {
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const device = `visible-${String(i).padStart(10, "0")}`;
        const res = await send(
          api.v1.events.$post({
            query: {},
            json: {
              id: `visible-${i}`,
              type: "page.view",
              identities: [id("device", device)],
              data: { i },
            },
          }),
        );
        expect(res).toHaveStatus(200);
        const read = await lookup("device", device, { include: "events" });
        expect(read).toHaveStatus(200);
        expect(read.json.events?.map((e) => e.id)).toEqual([`visible-${i}`]);
      }),
    );
  });

  it("a group whose D1 write fails loses no accepted item and fails only the call that fails alone", async () => {
    // Every call below creates a crm identity born on the holder's shard, so they share its lane.
    const shard = await indexShardOf("crm:lane-holder");
    const writer = () => shardWriter(env, shard) as unknown as DurableObjectStub<GraphWriter>;
    const crm = (
      await keysOnShard(shard, 24, (n) => `crm:innocent-${String(n).padStart(3, "0")}`)
    ).map((k) => k.slice(4));
    await runInDurableObject(writer(), (instance: GraphWriter) => {
      instance.hooks.beforePersist = async (calls) => {
        if (calls.some((c) => c.items.some((it) => it.event?.type === "hold.lane")))
          await new Promise((r) => setTimeout(r, 300));
        if (calls.some((c) => c.items.some((it) => it.event?.type === "poison.write")))
          throw new Error("simulated D1 failure");
      };
    });
    const before = await writer().laneStats();
    try {
      // One call holds the lane, so the 24 below queue up and form one group.
      const holder = send(
        api.v1.events.$post({
          query: {},
          json: { type: "hold.lane", identities: [id("crm", "lane-holder")] },
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          send(
            api.v1.events.$post({
              query: {},
              json: {
                id: `innocent-${i}`,
                type: i === 11 ? "poison.write" : "purchase",
                identities: [id("crm", crm[i]!)],
              },
            }),
          ),
        ),
      );
      results.forEach((res, i) => {
        if (i === 11) {
          expect(res).toHaveStatus(500);
          expect(res.error?.code).toBe("internal_error");
        } else {
          expect(res.status, `call ${i}`).toBe(200);
          expect(res.json.accepted).toBe(1);
        }
      });
      expect(await holder).toHaveStatus(200);
      const after = await writer().laneStats();
      expect(after.retriedGroups).toBeGreaterThan(before.retriedGroups);
      for (let i = 0; i < 24; i++) {
        const read = await lookup("crm", crm[i]!, { include: "events" });
        if (i === 11) expect(read).toHaveStatus(404);
        else expect(read.json.events?.map((e) => e.id)).toEqual([`innocent-${i}`]);
      }
    } finally {
      await runInDurableObject(writer(), (instance: GraphWriter) => {
        instance.hooks = {};
      });
    }
  });
});

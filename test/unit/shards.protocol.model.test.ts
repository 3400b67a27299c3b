/**
 * Model-based test of the shard protocol (worker/shards/protocol.ts, design/scale-out.md
 * §3.15): three shards and one coordinator run the production protocol code over in-memory
 * stores, while fast-check chooses what happens next — an operation arrives, a message is
 * delivered (in any order), a request or its reply is lost, a message arrives twice, the
 * coordinator crashes and restarts from its log. Then everything is delivered, and the
 * result is checked against one sequential run of the committed operations.
 *
 * The operations link identity keys (the graph's union); each component records the ids of
 * the operations applied to it, in order, so a lost, doubled or reordered application shows.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  abort as abortAt,
  applyLocally,
  type Component,
  Coordinator,
  commit as commitAt,
  type Decide,
  type DecideNow,
  type IndexEntry,
  type Key,
  localPlacement,
  type ParticipantStore,
  type Placement,
  type ProfileId,
  prepare as prepareAt,
  type ShardRpc,
  type TxId,
  type TxLog,
  type TxRecord,
} from "../../worker/shards/protocol";

const SHARDS = 3;
const BUCKETS = 8;
const KEYS = ["a", "b", "c", "d", "e", "f", "g", "h"];
const SUPPRESSED = ["x"];

interface Op {
  id: string;
  keys: Key[];
}
type Result = { status: "applied" | "duplicate"; profileId: ProfileId } | { status: "refused" };
type Payload = { ops: string[] };

const hash = (key: string) => [...key].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 1009, 7);
const placement: Placement = {
  indexBucket: (key) => hash(key) % BUCKETS,
  profileBucket: (profileId) => Number(profileId.split("/")[0]),
  ownerOf: (bucket) => bucket % SHARDS,
};
/** A new profile is homed in its anchor's index bucket; its id is derived from the anchor, so a sequential run mints the same. */
const mint = (anchor: Key) => `${placement.indexBucket(anchor)}/${anchor}`;

/** The reference semantics (and the decision both the shards and the coordinator run): union, deduplicated by operation id. */
const decide: DecideNow<Op, Result, Payload> = (ops, components, _reserved, suppressed) => {
  const live = new Map(
    components.map((c) => [
      c.profileId,
      { profileId: c.profileId, keys: [...c.keys], payload: { ops: [...c.payload.ops] } },
    ]),
  );
  const owner = new Map<Key, ProfileId>();
  for (const c of live.values()) for (const k of c.keys) owner.set(k, c.profileId);
  const results = ops.map((op): Result => {
    const keys = op.keys.filter((k) => !suppressed.has(k));
    if (keys.length === 0) return { status: "refused" };
    const involved = [
      ...new Set(keys.map((k) => owner.get(k)).filter((p): p is ProfileId => p !== undefined)),
    ].sort();
    const hit = involved.find((p) => live.get(p)!.payload.ops.includes(op.id));
    if (hit) return { status: "duplicate", profileId: hit };
    const survivor = live.get(involved[0] ?? "") ?? {
      profileId: mint(keys[0]!),
      keys: [],
      payload: { ops: [] },
    };
    live.set(survivor.profileId, survivor);
    for (const other of involved.slice(1)) {
      const absorbed = live.get(other)!;
      survivor.keys.push(...absorbed.keys);
      survivor.payload.ops.push(...absorbed.payload.ops);
      live.delete(other);
    }
    for (const k of keys) if (!survivor.keys.includes(k)) survivor.keys.push(k);
    survivor.payload.ops.push(op.id);
    for (const k of survivor.keys) owner.set(k, survivor.profileId);
    return { status: "applied", profileId: survivor.profileId };
  });
  return { results, after: [...live.values()] };
};

/** One shard's durable state, in memory. `writer` says who is writing, so a write to a frozen component by anyone else is caught. */
class ModelShard implements ParticipantStore<Payload> {
  owners = new Map<Key, ProfileId>();
  components = new Map<ProfileId, Component<Payload>>();
  freezes = new Map<ProfileId, TxId>();
  index = new Map<Key, IndexEntry>();
  outcomes = new Map<TxId, "prepared" | "committed" | "aborted">();
  writer: { tx: TxId } | "local" | undefined;
  violations: string[] = [];

  constructor(readonly shard: number) {}
  ownerOf = (key: Key) => this.owners.get(key);
  component = (profileId: ProfileId) => this.components.get(profileId);
  private guard(profileId: ProfileId) {
    const holder = this.freezes.get(profileId);
    if (holder !== undefined && !(typeof this.writer === "object" && this.writer.tx === holder))
      this.violations.push(
        `shard ${this.shard}: ${profileId} written while frozen by tx ${holder}`,
      );
  }
  put(component: Component<Payload>) {
    this.guard(component.profileId);
    this.remove(component.profileId, false);
    const copy = {
      profileId: component.profileId,
      keys: [...component.keys],
      payload: { ops: [...component.payload.ops] },
    };
    this.components.set(copy.profileId, copy);
    for (const k of copy.keys) this.owners.set(k, copy.profileId);
  }
  remove(profileId: ProfileId, guard = true) {
    if (guard) this.guard(profileId);
    for (const k of this.components.get(profileId)?.keys ?? [])
      if (this.owners.get(k) === profileId) this.owners.delete(k);
    this.components.delete(profileId);
  }
  frozenBy = (profileId: ProfileId) => this.freezes.get(profileId);
  setFrozen(profileId: ProfileId, tx: TxId | undefined) {
    if (tx === undefined) this.freezes.delete(profileId);
    else this.freezes.set(profileId, tx);
  }
  frozen = (tx: TxId) => [...this.freezes].filter(([, t]) => t === tx).map(([p]) => p);
  indexEntry = (key: Key) => this.index.get(key);
  setIndexEntry(key: Key, entry: IndexEntry | undefined) {
    if (entry === undefined) this.index.delete(key);
    else this.index.set(key, entry);
  }
  reserved = (tx: TxId) =>
    [...this.index].filter(([, e]) => e.state === "reserved" && e.tx === tx).map(([k]) => k);
  outcome = (tx: TxId) => this.outcomes.get(tx);
  setOutcome(tx: TxId, outcome: "prepared" | "committed" | "aborted") {
    this.outcomes.set(tx, outcome);
  }
  transaction<T>(step: () => T): T {
    return step();
  }
}

class ModelLog implements TxLog<Payload> {
  counter = 0;
  records = new Map<TxId, TxRecord<Payload>>();
  onDecided: (tx: TxId) => void = () => undefined;
  next = () => ++this.counter;
  put(record: TxRecord<Payload>) {
    const first = record.state === "decided" && this.records.get(record.tx)?.state !== "decided";
    this.records.set(record.tx, structuredClone(record));
    if (first) this.onDecided(record.tx);
  }
  unfinished = () =>
    [...this.records.values()].filter((r) => r.state === "preparing" || r.state === "decided");
}

interface Message {
  to: number;
  run: () => unknown;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  live: () => boolean;
}

/** Lets every continuation that can run, run (the coordinator's awaits), without a timer. */
const settle = async () => {
  for (let i = 0; i < 40; i++) await Promise.resolve();
};

class Simulation {
  shards = Array.from({ length: SHARDS }, (_, s) => new ModelShard(s));
  log = new ModelLog();
  net: Message[] = [];
  generation = 0;
  coordinator!: Coordinator<Op, Result, Payload>;
  busy = false;
  /** The group the coordinator is running. */
  group: Op[] = [];
  queue: Op[] = [];
  waiting: Op[] = [];
  acked = new Map<string, Result>();
  /** Committed operations in commit order (local applies and coordinator decisions). */
  history: Op[] = [];
  private deciding: Op[] = [];
  problems: string[] = [];
  seen = { crashesInFlight: 0, lost: 0, twice: 0 };

  constructor() {
    for (const key of SUPPRESSED)
      this.shards[placement.ownerOf(placement.indexBucket(key))]!.index.set(key, {
        state: "suppressed",
      });
    this.log.onDecided = () => this.history.push(...this.deciding);
    this.restartCoordinator();
  }

  private rpcFor(generation: number): ShardRpc<Payload> {
    const send = <T>(to: number, run: () => T) =>
      new Promise<T>((resolve, reject) => {
        // A dead coordinator sends nothing more (its process is gone).
        if (generation !== this.generation) return;
        this.net.push({
          to,
          run,
          resolve: resolve as (v: never) => void,
          reject,
          live: () => generation === this.generation,
        });
      });
    const as =
      <T>(shard: ModelShard, tx: TxId, run: () => T) =>
      () => {
        shard.writer = { tx };
        try {
          return run();
        } finally {
          shard.writer = undefined;
        }
      };
    return {
      prepare: (s, tx, keys) =>
        send(
          s,
          as(this.shards[s]!, tx, () =>
            structuredClone(prepareAt(this.shards[s]!, placement, tx, keys)),
          ),
        ),
      commit: (s, tx, actions) =>
        send(
          s,
          as(this.shards[s]!, tx, () => commitAt(this.shards[s]!, tx, structuredClone(actions))),
        ),
      abort: (s, tx) =>
        send(
          s,
          as(this.shards[s]!, tx, () => abortAt(this.shards[s]!, tx)),
        ),
    };
  }

  restartCoordinator() {
    this.generation++;
    this.busy = false;
    const recording: Decide<Op, Result, Payload> = (ops, components, reserved, suppressed) => {
      this.deciding = [...ops];
      return decide(ops, components, reserved, suppressed);
    };
    this.coordinator = new Coordinator(
      this.log,
      this.rpcFor(this.generation),
      placement,
      recording,
      (op) => op.keys,
    );
    void this.coordinator.recover();
  }

  /** A client sends `op` to the shard its first key's index lives on. */
  submit(op: Op) {
    const shard = this.shards[placement.ownerOf(placement.indexBucket(op.keys[0]!))]!;
    const where = localPlacement(shard, placement, op.keys);
    if (where === "wait") return void this.waiting.push(op);
    if (where === "coordinator") return void this.queue.push(op);
    shard.writer = "local";
    const result = applyLocally(shard, placement, op, op.keys, decide)!;
    shard.writer = undefined;
    if (result.status === "applied") this.history.push(op);
    this.ack(op, result);
  }

  private ack(op: Op, result: Result) {
    const earlier = this.acked.get(op.id);
    if (earlier && earlier.status !== "refused" && result.status === "applied")
      this.problems.push(`${op.id} applied twice`);
    if (!earlier || earlier.status === "refused") this.acked.set(op.id, result);
  }

  /** The coordinator takes everything queued as one group. */
  tick() {
    if (this.busy || this.queue.length === 0) return;
    const group = this.queue.splice(0);
    this.group = group;
    const generation = this.generation;
    this.busy = true;
    this.coordinator.run(group).then(
      (outcome) => {
        if (generation !== this.generation) return; // answered after a crash: lost with the connection
        this.busy = false;
        if (outcome.committed) group.forEach((op, i) => this.ack(op, outcome.results[i]!));
        else this.waiting.push(...group);
      },
      (error) => this.problems.push(`coordinator failed: ${error}`),
    );
  }

  /** The coordinator's process dies: the callers of the group in flight get a broken connection and send again (same ids). */
  crash() {
    if (this.busy) {
      this.seen.crashesInFlight++;
      this.waiting.push(...this.group);
    }
    this.restartCoordinator();
  }

  deliver(i: number, fate: "ok" | "lost-request" | "lost-reply" | "twice") {
    const [m] = this.net.splice(i % this.net.length, 1);
    if (!m) return;
    if (fate === "lost-request" || fate === "lost-reply") this.seen.lost++;
    if (fate === "lost-request") return m.live() && m.reject(new Error("lost"));
    if (fate === "twice") this.seen.twice++;
    if (fate === "twice")
      this.net.push({ ...m, resolve: () => undefined, reject: () => undefined });
    let value: unknown;
    try {
      value = m.run();
    } catch (error) {
      this.problems.push(`shard ${m.to}: ${(error as Error).message}`);
      return;
    }
    if (!m.live()) return;
    if (fate === "lost-reply") m.reject(new Error("lost"));
    else m.resolve(value as never);
  }
}

interface Script {
  ops: Key[][];
  steps: { kind: number; pick: number; fate: number }[];
}

async function run(script: Script): Promise<Simulation> {
  const sim = new Simulation();
  const ops = script.ops.map((keys, i) => ({ id: `op${i}`, keys }));
  let nextOp = 0;
  const submit = (op: Op) => sim.submit(op);
  for (const step of script.steps) {
    const kind = step.kind % 10;
    if (kind <= 2 && nextOp < ops.length) submit(ops[nextOp++]!);
    else if (kind <= 5 && sim.net.length > 0)
      sim.deliver(
        step.pick,
        (["ok", "ok", "lost-request", "lost-reply", "twice"] as const)[step.fate % 5]!,
      );
    else if (kind === 6 || kind === 7) sim.tick();
    else if (kind === 8 && sim.waiting.length > 0)
      submit(sim.waiting.splice(step.pick % sim.waiting.length, 1)[0]!);
    else if (kind === 9 && (sim.busy || step.fate % 4 === 0)) sim.crash();
    await settle();
  }
  // Then the network heals: everything is delivered, every caller retries until answered.
  while (nextOp < ops.length) submit(ops[nextOp++]!);
  for (let round = 0; round < 5_000; round++) {
    if (sim.net.length > 0) sim.deliver(0, "ok");
    else if (sim.waiting.length > 0) submit(sim.waiting.shift()!);
    else if (!sim.busy && sim.queue.length > 0) sim.tick();
    else if (
      !sim.busy &&
      sim.log.unfinished().length === 0 &&
      ops.every((op) => sim.acked.has(op.id))
    )
      break;
    await settle();
  }
  return sim;
}

/** Everything that must hold once all is delivered (§3.15: single ownership, freeze safety, idempotency, sequential equivalence). */
function check(sim: Simulation, ops: number): string[] {
  const problems = [...sim.problems, ...sim.shards.flatMap((s) => s.violations)];
  if (sim.acked.size !== ops) problems.push(`answered ${sim.acked.size} of ${ops} operations`);
  if (sim.log.unfinished().length > 0)
    problems.push(`unfinished transactions ${sim.log.unfinished().map((r) => r.tx)}`);
  const holders = new Map<Key, number[]>();
  for (const shard of sim.shards) {
    if (shard.freezes.size > 0)
      problems.push(`shard ${shard.shard} still has freezes ${[...shard.freezes]}`);
    for (const [key, entry] of shard.index)
      if (entry.state === "reserved") problems.push(`shard ${shard.shard} still reserves ${key}`);
    for (const c of shard.components.values()) {
      if (placement.ownerOf(placement.profileBucket(c.profileId)) !== shard.shard)
        problems.push(`${c.profileId} lives on shard ${shard.shard}, not its bucket's owner`);
      for (const key of c.keys) holders.set(key, [...(holders.get(key) ?? []), shard.shard]);
    }
    for (const [key, profileId] of shard.owners)
      if (!shard.components.get(profileId)?.keys.includes(key))
        problems.push(
          `shard ${shard.shard}: ${key} points to ${profileId}, which does not hold it`,
        );
  }
  for (const [key, shards] of holders) {
    if (shards.length !== 1) problems.push(`${key} held by shards ${shards}`);
    const entry = sim.shards[placement.ownerOf(placement.indexBucket(key))]!.index.get(key);
    if (entry?.state !== "live" || placement.ownerOf(entry.home) !== shards[0])
      problems.push(
        `index entry of ${key} is ${JSON.stringify(entry)}, but it lives on shard ${shards[0]}`,
      );
  }
  // Sequential equivalence: the committed operations, replayed one by one in commit order, give the same graph.
  const reference = sim.history.reduce<Component<Payload>[]>(
    (components, op) => decide([op], components, new Set(), new Set(SUPPRESSED)).after,
    [],
  );
  const actual = sim.shards.flatMap((s) => [...s.components.values()]);
  const canonical = (cs: Component<Payload>[]) =>
    cs
      .map((c) => `${c.profileId}=${[...c.keys].sort().join(",")}|${c.payload.ops.join(",")}`)
      .sort();
  if (JSON.stringify(canonical(actual)) !== JSON.stringify(canonical(reference)))
    problems.push(
      `differs from the sequential run:\n  ${canonical(actual).join("\n  ")}\nvs\n  ${canonical(reference).join("\n  ")}`,
    );
  // Every answer is what that sequential run says about the operation, and each op is applied at most once.
  const applied = reference.flatMap((c) => c.payload.ops);
  if (new Set(applied).size !== applied.length)
    problems.push(`an operation was applied twice: ${applied}`);
  for (const [id, result] of sim.acked)
    if (result.status !== "refused" && !applied.includes(id))
      problems.push(`${id} answered ${result.status} but is not in the graph`);
  return problems;
}

const scriptArb = fc.record({
  ops: fc.array(fc.shuffledSubarray([...KEYS, ...SUPPRESSED], { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 8,
  }),
  steps: fc.array(fc.record({ kind: fc.nat(), pick: fc.nat(), fate: fc.nat() }), { maxLength: 80 }),
});

describe("the shard protocol under random message orders, losses, duplicates and crashes", () => {
  it("a hand-made cross-shard merge commits once, and a lost coordinator is recovered", async () => {
    const sim = await run({
      ops: [["a"], ["b"], ["a", "b"], ["c", "a"]],
      steps: [
        { kind: 0, pick: 0, fate: 0 },
        { kind: 0, pick: 0, fate: 0 },
        { kind: 0, pick: 0, fate: 0 },
        { kind: 7, pick: 0, fate: 0 },
        { kind: 3, pick: 0, fate: 0 },
        { kind: 9, pick: 0, fate: 0 },
      ],
    });
    expect(check(sim, 4)).toEqual([]);
    const component = sim.shards
      .flatMap((s) => [...s.components.values()])
      .find((c) => c.keys.includes("a"))!;
    expect([...component.keys].sort()).toEqual(["a", "b", "c"]);
  });

  it("holds the invariants over 10,000 random histories", async () => {
    const seen = {
      preparing: 0,
      decided: 0,
      done: 0,
      aborted: 0,
      crashesInFlight: 0,
      lost: 0,
      twice: 0,
    };
    await fc.assert(
      fc.asyncProperty(scriptArb, async (script) => {
        const sim = await run(script);
        const problems = check(sim, script.ops.length);
        for (const r of sim.log.records.values()) seen[r.state]++;
        seen.crashesInFlight += sim.seen.crashesInFlight;
        seen.lost += sim.seen.lost;
        seen.twice += sim.seen.twice;
        if (problems.length > 0) throw new Error(problems.join("\n"));
      }),
      { numRuns: 10_000 },
    );
    // The histories did reach what the protocol is for (so this test cannot pass vacuously).
    console.log(`protocol model: ${JSON.stringify(seen)}`);
    expect(seen.done).toBeGreaterThan(5_000);
    expect(seen.aborted).toBeGreaterThan(10);
    expect(seen.crashesInFlight).toBeGreaterThan(100);
    expect(seen.lost).toBeGreaterThan(500);
    expect(seen.twice).toBeGreaterThan(250);
  }, 120_000);
});

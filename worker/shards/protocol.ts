/**
 * The protocol that keeps identity graphs correct when they are split over owner shards
 * (design/scale-out.md §3.6–3.7). One plain module: the shard Durable Objects and the
 * coordinator call it with their own storage, and the model test in `test/unit` drives it
 * with random message orders, lost and duplicated messages and crashes.
 *
 * - A component (a profile and its identities) is written by exactly one actor at a time:
 *   its owner shard while unfrozen, the coordinator while a transaction has it frozen.
 * - An identity is created only by a claim at the shard hosting its index bucket: locally,
 *   or reserved by a coordinator transaction.
 * - The coordinator runs one transaction at a time (a group of operations): prepare (freeze
 *   whole components, reserve new identities, follow redirects), decide with the same code a
 *   shard runs, write the decision to its log (the commit point), then commit at every
 *   participant. Every participant step is idempotent and records the transaction's outcome,
 *   so a late or duplicated message changes nothing. After a crash, an undecided transaction
 *   is aborted everywhere it asked, and a decided one is committed everywhere.
 *
 * Storage is synchronous (a Durable Object's SQLite); each participant step runs in one
 * transaction of its store.
 */
import type { Bucket } from "./placement";

export type Key = string;
export type ProfileId = string;
export type TxId = number;

/** A profile with its identities, whole, as it travels between shards. `P` is everything else it owns (rows). */
export interface Component<P> {
  profileId: ProfileId;
  keys: Key[];
  payload: P;
}

/** An identity's entry in the index, at the shard hosting its index bucket. */
export type IndexEntry =
  | { state: "live"; home: Bucket }
  | { state: "reserved"; tx: TxId }
  | { state: "suppressed" };

/** Where things live: the deployment's buckets and directory, as one shard or the coordinator sees them. */
export interface Placement {
  indexBucket(key: Key): Bucket;
  profileBucket(profileId: ProfileId): Bucket;
  ownerOf(bucket: Bucket): number;
}

/** A shard's durable state, as the protocol needs it. Every method is synchronous. */
export interface ParticipantStore<P> {
  readonly shard: number;
  /** The profile owning `key`, when its component lives here. */
  ownerOf(key: Key): ProfileId | undefined;
  component(profileId: ProfileId): Component<P> | undefined;
  /** Stores a component (replacing the one with its id): its keys now point to it. */
  put(component: Component<P>): void;
  /** Removes a component and its keys. */
  remove(profileId: ProfileId): void;
  frozenBy(profileId: ProfileId): TxId | undefined;
  setFrozen(profileId: ProfileId, tx: TxId | undefined): void;
  /** Profiles frozen by `tx`. */
  frozen(tx: TxId): ProfileId[];
  indexEntry(key: Key): IndexEntry | undefined;
  setIndexEntry(key: Key, entry: IndexEntry | undefined): void;
  /** Keys reserved by `tx`. */
  reserved(tx: TxId): Key[];
  outcome(tx: TxId): "prepared" | "committed" | "aborted" | undefined;
  setOutcome(tx: TxId, outcome: "prepared" | "committed" | "aborted"): void;
  /** Runs `step` atomically: all of its writes or none. */
  transaction<T>(step: () => T): T;
}

// ---- participants ------------------------------------------------------------------------

export interface PrepareReply<P> {
  shard: number;
  /** Whole components now frozen for the transaction. */
  components: Component<P>[];
  /** Keys that did not exist and are now reserved for the transaction. */
  reserved: Key[];
  /** Keys this shard does not hold: ask the owner of this bucket. */
  redirects: [Key, Bucket][];
  /** Keys whose identity was erased: an item carrying one is refused. */
  suppressed: Key[];
  /** Keys held by another transaction (only after a lost abort): abort and retry later. */
  busy: Key[];
  /** The transaction was already committed or aborted here (a late or duplicated prepare): nothing was frozen. */
  resolved?: "committed" | "aborted";
}

/** Freezes the components holding `keys` and reserves the keys that do not exist, for `tx`. Idempotent. */
export function prepare<P>(
  store: ParticipantStore<P>,
  placement: Placement,
  tx: TxId,
  keys: readonly Key[],
): PrepareReply<P> {
  return store.transaction(() => {
    const reply: PrepareReply<P> = {
      shard: store.shard,
      components: [],
      reserved: [],
      redirects: [],
      suppressed: [],
      busy: [],
    };
    const known = store.outcome(tx);
    if (known === "committed" || known === "aborted") return { ...reply, resolved: known };
    const seen = new Set<ProfileId>();
    for (const key of keys) {
      const profileId = store.ownerOf(key);
      if (profileId !== undefined) {
        const holder = store.frozenBy(profileId);
        if (holder !== undefined && holder !== tx) {
          reply.busy.push(key);
          continue;
        }
        store.setFrozen(profileId, tx);
        if (!seen.has(profileId)) {
          seen.add(profileId);
          reply.components.push(store.component(profileId)!);
        }
        continue;
      }
      const indexBucket = placement.indexBucket(key);
      if (placement.ownerOf(indexBucket) !== store.shard) {
        reply.redirects.push([key, indexBucket]); // the index lives elsewhere
        continue;
      }
      const entry = store.indexEntry(key);
      if (
        entry === undefined ||
        (entry.state === "reserved" && entry.tx === tx) ||
        // An entry pointing here that no component answers is left from a component removed
        // here (deleted, erased, expired): the key is new.
        (entry.state === "live" && placement.ownerOf(entry.home) === store.shard)
      ) {
        store.setIndexEntry(key, { state: "reserved", tx });
        reply.reserved.push(key);
      } else if (entry.state === "reserved") reply.busy.push(key);
      else if (entry.state === "suppressed") reply.suppressed.push(key);
      else reply.redirects.push([key, entry.home]);
    }
    store.setOutcome(tx, "prepared");
    return reply;
  });
}

/** What one shard does at commit. */
export interface ShardActions<P> {
  /** Components this shard owns after the transaction (new, grown or shrunk). */
  put: Component<P>[];
  /** Components that left this shard (absorbed into one homed elsewhere). */
  remove: ProfileId[];
  /** Index entries of keys whose index bucket this shard hosts: live at their new home, or released. */
  index: [Key, IndexEntry | undefined][];
}

/**
 * Applies the decision for `tx` and releases everything it froze or reserved. Idempotent: a
 * second commit answers "already". A shard that was not asked (a new home) has no outcome yet
 * and applies it; one that aborted `tx` refuses (the coordinator never decides after an abort).
 */
export function commit<P>(
  store: ParticipantStore<P>,
  tx: TxId,
  actions: ShardActions<P>,
): "committed" | "already" {
  return store.transaction(() => {
    const known = store.outcome(tx);
    if (known === "committed") return "already";
    if (known === "aborted")
      throw new Error(`commit of transaction ${tx}, which this shard aborted`);
    for (const profileId of actions.remove) store.remove(profileId);
    for (const component of actions.put) store.put(component);
    for (const [key, entry] of actions.index) store.setIndexEntry(key, entry);
    release(store, tx);
    store.setOutcome(tx, "committed");
    return "committed";
  });
}

/** Releases what `tx` froze or reserved. Idempotent; refused (answers "committed") after a commit. */
export function abort<P>(store: ParticipantStore<P>, tx: TxId): "aborted" | "committed" {
  return store.transaction(() => {
    if (store.outcome(tx) === "committed") return "committed";
    release(store, tx);
    store.setOutcome(tx, "aborted");
    return "aborted";
  });
}

function release<P>(store: ParticipantStore<P>, tx: TxId): void {
  for (const profileId of store.frozen(tx)) store.setFrozen(profileId, undefined);
  for (const key of store.reserved(tx)) {
    const entry = store.indexEntry(key);
    if (entry?.state === "reserved" && entry.tx === tx) store.setIndexEntry(key, undefined);
  }
}

/**
 * Whether a shard can apply an operation on `keys` itself, in its own lane: every key is in
 * an unfrozen component here, or new with its index bucket hosted here (a claim). Otherwise
 * it waits (a key is frozen or reserved by a transaction) or goes to the coordinator.
 */
export function localPlacement<P>(
  store: ParticipantStore<P>,
  placement: Placement,
  keys: readonly Key[],
): "local" | "wait" | "coordinator" | "suppressed" {
  let result: "local" | "suppressed" = "local";
  for (const key of keys) {
    const profileId = store.ownerOf(key);
    if (profileId !== undefined) {
      if (store.frozenBy(profileId) !== undefined) return "wait";
      continue;
    }
    const indexBucket = placement.indexBucket(key);
    if (placement.ownerOf(indexBucket) !== store.shard) return "coordinator";
    const entry = store.indexEntry(key);
    if (entry === undefined) continue;
    if (entry.state === "reserved") return "wait";
    if (entry.state === "suppressed") result = "suppressed";
    else if (placement.ownerOf(entry.home) !== store.shard) return "coordinator"; // it lives on another shard
    // else: left from a component removed here; the key is new (see `prepare`)
  }
  return result;
}

/**
 * An operation a shard applies in its own lane (cases 1 and 2 of §3.6): the components it
 * touches, decided with the same code as the coordinator's, and the claimed keys' index
 * entries, in one transaction. Undefined when it cannot run here (see `localPlacement`).
 */
export function applyLocally<O, R, P>(
  store: ParticipantStore<P>,
  placement: Placement,
  op: O,
  keys: readonly Key[],
  decide: DecideNow<O, R, P>,
): R | undefined {
  const where = localPlacement(store, placement, keys);
  if (where !== "local" && where !== "suppressed") return undefined;
  return store.transaction(() => {
    const owned = new Map<ProfileId, Component<P>>();
    const claimed = new Set<Key>();
    const suppressed = new Set<Key>();
    for (const key of keys) {
      const profileId = store.ownerOf(key);
      if (profileId !== undefined) owned.set(profileId, store.component(profileId)!);
      else if (store.indexEntry(key)?.state === "suppressed") suppressed.add(key);
      else claimed.add(key);
    }
    const { results, after } = decide([op], [...owned.values()], claimed, suppressed);
    const kept = new Set(after.map((c) => c.profileId));
    for (const profileId of owned.keys()) if (!kept.has(profileId)) store.remove(profileId);
    for (const component of after) {
      const home = placement.profileBucket(component.profileId);
      if (placement.ownerOf(home) !== store.shard)
        throw new Error(`a local decision placed ${component.profileId} on another shard`);
      store.put(component);
      for (const key of component.keys)
        if (claimed.has(key)) store.setIndexEntry(key, { state: "live", home });
    }
    return results[0]!;
  });
}

// ---- deciding --------------------------------------------------------------------------------

/**
 * The decision over the frozen components and reserved keys: per operation a result, and
 * the components as they stand after (a component absent from `after` was absorbed).
 * Production passes the shard's own group code (rule 3); the model test passes its reference.
 */
export type Decide<O, R, P> = (
  ...input: Parameters<DecideNow<O, R, P>>
) => Decision<R, P> | Promise<Decision<R, P>>;

/** A decision made synchronously (a shard's own lane, in `applyLocally`). */
export type DecideNow<O, R, P> = (
  ops: readonly O[],
  components: readonly Component<P>[],
  reserved: ReadonlySet<Key>,
  suppressed: ReadonlySet<Key>,
) => Decision<R, P>;

export interface Decision<R, P> {
  results: R[];
  after: Component<P>[];
  /** What the read projection must apply for this transaction (the decision's own statements), if anything. */
  changes?: unknown;
}

/**
 * Turns a decision into each shard's actions: every component after goes to the owner of its
 * profile's bucket; a component that left its shard (or was absorbed) is removed there; keys
 * whose home bucket changed, or that were reserved, get a live index entry; reservations no
 * component took are released.
 */
function partitionByOwner<P>(
  placement: Placement,
  before: ReadonlyMap<ProfileId, { shard: number; component: Component<P> }>,
  after: readonly Component<P>[],
  reserved: ReadonlySet<Key>,
): Map<number, ShardActions<P>> {
  const actions = new Map<number, ShardActions<P>>();
  const at = (shard: number) => {
    let a = actions.get(shard);
    if (!a) actions.set(shard, (a = { put: [], remove: [], index: [] }));
    return a;
  };
  const homeOf = new Map<Key, Bucket>();
  const placed = new Map<ProfileId, number>();
  for (const component of after) {
    const home = placement.profileBucket(component.profileId);
    const shard = placement.ownerOf(home);
    placed.set(component.profileId, shard);
    at(shard).put.push(component);
    for (const key of component.keys) homeOf.set(key, home);
  }
  for (const [profileId, { shard, component }] of before) {
    if (placed.get(profileId) !== shard) at(shard).remove.push(profileId);
    for (const key of component.keys) {
      const home = homeOf.get(key);
      // A key that left every component was dropped by the decision (never by this protocol's reference): release its entry.
      if (home === undefined)
        at(placement.ownerOf(placement.indexBucket(key))).index.push([key, undefined]);
      else if (home !== placement.profileBucket(profileId))
        at(placement.ownerOf(placement.indexBucket(key))).index.push([
          key,
          { state: "live", home },
        ]);
    }
  }
  for (const key of reserved) {
    const home = homeOf.get(key);
    at(placement.ownerOf(placement.indexBucket(key))).index.push([
      key,
      home === undefined ? undefined : { state: "live", home },
    ]);
  }
  return actions;
}

// ---- the coordinator ------------------------------------------------------------------------

/** The coordinator's durable log of transactions. */
export type TxRecord<P> =
  | { tx: TxId; state: "preparing"; asked: number[] }
  | {
      tx: TxId;
      state: "decided";
      actions: [number, ShardActions<P>][];
      pending: number[];
      changes?: unknown;
    }
  | { tx: TxId; state: "done" | "aborted" };

export interface TxLog<P> {
  /** A new transaction id, greater than every earlier one (durable). */
  next(): TxId;
  put(record: TxRecord<P>): void;
  /** Transactions neither done nor aborted (after a restart: the one in flight, if any). */
  unfinished(): TxRecord<P>[];
}

/** The participants, over RPC: a call may fail (lost request or reply) and is then retried. */
export interface ShardRpc<P> {
  prepare(shard: number, tx: TxId, keys: Key[]): Promise<PrepareReply<P>>;
  commit(shard: number, tx: TxId, actions: ShardActions<P>): Promise<"committed" | "already">;
  abort(shard: number, tx: TxId): Promise<"aborted" | "committed">;
}

type TxOutcome<R> =
  | { committed: true; tx: TxId; results: R[] }
  | { committed: false; tx: TxId; reason: "busy" | "unreachable" | "redirects" };

const MAX_ROUNDS = 4;

interface CoordinatorOptions {
  prepareAttempts: number;
  retryDelay: () => Promise<void>;
  /**
   * Applies a decision's `changes` to the read projection, after the decision is durable and
   * before any participant commits (so every later commit of those components reaches the
   * projection after it). Must be idempotent per `tx`: recovery calls it again.
   */
  project?: (tx: TxId, changes: unknown) => Promise<void>;
}

export class Coordinator<O, R, P> {
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly log: TxLog<P>,
    private readonly rpc: ShardRpc<P>,
    private readonly placement: Placement,
    private readonly decide: Decide<O, R, P>,
    private readonly keysOf: (op: O) => readonly Key[],
    private readonly options: CoordinatorOptions = {
      prepareAttempts: 3,
      retryDelay: () => Promise.resolve(),
    },
  ) {}

  /** Finishes what a crash left: an undecided transaction is aborted where it asked, a decided one committed everywhere. */
  recover(): Promise<void> {
    this.recovering ??= (async () => {
      for (const record of this.log.unfinished()) {
        if (record.state === "preparing") await this.abortAll(record.tx, record.asked);
        else if (record.state === "decided") {
          if (record.changes !== undefined) await this.projectChanges(record.tx, record.changes);
          await this.commitAll(record.tx, new Map(record.actions), record.pending, record.changes);
        }
      }
    })();
    return this.recovering;
  }

  /** One transaction over a group of operations, applied in order. Call one at a time, after `recover`. */
  async run(ops: readonly O[]): Promise<TxOutcome<R>> {
    await this.recover();
    const tx = this.log.next();
    const gathered = await this.gather(tx, ops);
    if (!gathered.ok) return this.giveUp(tx, gathered.asked, gathered.reason);
    const { asked, before, reserved, suppressed } = gathered;
    let decision: Decision<R, P>;
    try {
      decision = await this.decide(
        ops,
        [...before.values()].map((b) => b.component),
        reserved,
        suppressed,
      );
    } catch (error) {
      await this.abortAll(tx, [...asked]); // nothing was decided: let everything go, then fail
      throw error;
    }
    const { results, after, changes } = decision;
    const actions = partitionByOwner(this.placement, before, after, reserved);
    for (const shard of asked)
      if (!actions.has(shard)) actions.set(shard, { put: [], remove: [], index: [] }); // every asked shard unfreezes
    const participants = [...actions.keys()];
    // The commit point.
    this.log.put({ tx, state: "decided", actions: [...actions], pending: participants, changes });
    if (changes !== undefined) await this.projectChanges(tx, changes);
    await this.commitAll(tx, actions, participants, changes);
    return { committed: true, tx, results };
  }

  /**
   * Looks at what `ops` would touch, frozen as a transaction would see it, and lets it all
   * go: nothing is decided or written (a dry run across shards).
   */
  async look<T>(
    ops: readonly O[],
    look: (
      components: Component<P>[],
      reserved: ReadonlySet<Key>,
      suppressed: ReadonlySet<Key>,
    ) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: "busy" | "unreachable" | "redirects" }> {
    await this.recover();
    const tx = this.log.next();
    const gathered = await this.gather(tx, ops);
    if (!gathered.ok) {
      await this.giveUp(tx, gathered.asked, gathered.reason);
      return { ok: false, reason: gathered.reason };
    }
    try {
      const components = [...gathered.before.values()].map((b) => b.component);
      return { ok: true, value: await look(components, gathered.reserved, gathered.suppressed) };
    } finally {
      await this.abortAll(tx, [...gathered.asked]);
    }
  }

  /** Prepare rounds: every component the operations touch, frozen, and their new keys reserved. */
  private async gather(
    tx: TxId,
    ops: readonly O[],
  ): Promise<
    | {
        ok: true;
        asked: Set<number>;
        before: Map<ProfileId, { shard: number; component: Component<P> }>;
        reserved: Set<Key>;
        suppressed: Set<Key>;
      }
    | { ok: false; asked: Set<number>; reason: "busy" | "unreachable" | "redirects" }
  > {
    const asked = new Set<number>();
    const before = new Map<ProfileId, { shard: number; component: Component<P> }>();
    const reserved = new Set<Key>();
    const suppressed = new Set<Key>();
    let asks = new Map<number, Key[]>();
    const ask = (shard: number, key: Key) => asks.set(shard, [...(asks.get(shard) ?? []), key]);
    for (const key of new Set(ops.flatMap((op) => [...this.keysOf(op)])))
      ask(this.placement.ownerOf(this.placement.indexBucket(key)), key);
    this.log.put({ tx, state: "preparing", asked: [] });
    for (let round = 0; asks.size > 0; round++) {
      if (round === MAX_ROUNDS) return { ok: false, asked, reason: "redirects" };
      for (const shard of asks.keys()) asked.add(shard);
      this.log.put({ tx, state: "preparing", asked: [...asked] }); // durable before sending: recovery knows whom to release
      const replies = await Promise.all(
        [...asks].map(([shard, keys]) => this.prepareWithRetry(shard, tx, keys)),
      );
      asks = new Map();
      for (const reply of replies) {
        if (reply === undefined) return { ok: false, asked, reason: "unreachable" };
        if (reply.busy.length > 0 || reply.resolved) return { ok: false, asked, reason: "busy" };
        for (const component of reply.components)
          before.set(component.profileId, { shard: reply.shard, component });
        reply.reserved.forEach((k) => reserved.add(k));
        reply.suppressed.forEach((k) => suppressed.add(k));
      }
      const covered = new Set([...before.values()].flatMap((b) => b.component.keys));
      for (const reply of replies)
        for (const [key, bucket] of reply!.redirects)
          if (!covered.has(key)) ask(this.placement.ownerOf(bucket), key);
    }
    return { ok: true, asked, before, reserved, suppressed };
  }

  private async prepareWithRetry(
    shard: number,
    tx: TxId,
    keys: Key[],
  ): Promise<PrepareReply<P> | undefined> {
    for (let attempt = 0; attempt < this.options.prepareAttempts; attempt++) {
      try {
        return await this.rpc.prepare(shard, tx, keys);
      } catch {
        await this.options.retryDelay();
      }
    }
    return undefined;
  }

  private async giveUp(
    tx: TxId,
    asked: Set<number>,
    reason: "busy" | "unreachable" | "redirects",
  ): Promise<TxOutcome<R>> {
    await this.abortAll(tx, [...asked]);
    return { committed: false, tx, reason };
  }

  /** Until every shard has answered: a transaction never stays half released. */
  private async abortAll(tx: TxId, shards: readonly number[]): Promise<void> {
    await Promise.all(shards.map((shard) => this.untilAnswered(() => this.rpc.abort(shard, tx))));
    this.log.put({ tx, state: "aborted" });
  }

  private async projectChanges(tx: TxId, changes: unknown): Promise<void> {
    const { project } = this.options;
    if (project) await this.untilAnswered(() => project(tx, changes));
  }

  private async commitAll(
    tx: TxId,
    actions: ReadonlyMap<number, ShardActions<P>>,
    shards: readonly number[],
    changes: unknown,
  ): Promise<void> {
    const pending = new Set(shards);
    await Promise.all(
      shards.map(async (shard) => {
        await this.untilAnswered(() => this.rpc.commit(shard, tx, actions.get(shard)!));
        pending.delete(shard);
        this.log.put({
          tx,
          state: "decided",
          actions: [...actions],
          pending: [...pending],
          changes,
        });
      }),
    );
    this.log.put({ tx, state: "done" });
  }

  private async untilAnswered<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch {
        await this.options.retryDelay();
      }
    }
  }
}

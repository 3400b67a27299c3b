/**
 * The narrow seams every writer slice is written against (layer 0 of the writer package).
 *
 * A slice — an ingest group, a graph delete, a page of segment evaluation, a retention
 * step, an erase — needs four things from the Durable Object that runs it: the
 * configuration it applies (graph rules, segment definitions, webhook destinations), row
 * ids only the writer hands out, the suppression hasher, and a store to read from and
 * commit to. Each is an interface here; `state.ts` implements them, and tests can
 * implement fakes. None of them names a database or a table: moving the graph into the
 * writer's own SQLite, or one lane per shard, changes `state.ts` and the store, not the
 * slices.
 *
 * What stays with the façade (`writer.ts`): the lane (one arbiter for every change), the
 * announce of committed deliveries, and the test seams.
 */

import type { ConsentSettings } from "../../shared/schemas/consent";
import type { Read, SqlHandle, Values, WriteStatement } from "../db/queries/reads";
import type { SegmentDef } from "../db/queries/segments";
import type { GraphRules } from "../graph/workspace";
import type { ComputedDef } from "../model/computed";
import type { WebhookDestination } from "../webhooks/outbox";

export interface WriterConfig {
  rules: GraphRules;
  segments: SegmentDef[];
  /** Computed attribute definitions, kept current in every commit before segments are evaluated. */
  computed: ComputedDef[];
  /** Consent purposes and the conflict rule (the stored settings with the built-in purposes). */
  consent: ConsentSettings;
  /** Whether every write must read consent: a segment tests it, or a destination declared purposes. */
  readsConsent: boolean;
  /** Webhook destinations: what the writer's commits are announced to. */
  webhooks: WebhookDestination[];
  /** A new profile's id, homed in its anchor identity's index bucket (design/scale-out.md §3.4). */
  newProfileId: (anchorKey: string, splitFrom?: string) => string;
}

/** The configuration the writer applies; config routes tell it when to reload. */
export interface ConfigSource {
  current(): Promise<WriterConfig>;
  /** Namespaces, graph settings, segments or destinations changed: the next slice reloads. */
  invalidate(): void;
}

export interface Counters {
  identity: number;
  history: number;
  webhookSequence: number;
}

/**
 * Row ids only the writer allocates (identities, graph history, webhook sequence). They
 * are read from the store once, folded into a slice's first read where it has one.
 */
export interface Ids {
  /** A read of the counters to add to a slice's load (a constant once they are known). */
  countersRead(): Read<Counters>;
  /** Call with what `countersRead` gave once the read ran (the first answer wins). */
  loaded(counters: Counters): void;
  /** Reads the counters if no slice has yet. */
  ensure(): Promise<void>;
  identity(): number;
  /** Reserves `n` history ids and returns the first. */
  history(n: number): number;
  /** The next webhook delivery sequence number. */
  sequence(): number;
}

/** The salted hash erased identities are kept as (SPEC: suppression list). */
export interface Suppression {
  hasher(): Promise<(identityKey: string) => Promise<string>>;
}

/**
 * Where the writer's data lives. Reads share one round trip (`read`); a slice's whole
 * change is one atomic `commit`, and only `commit.ts` calls it.
 */
export interface Store {
  /** The handle the data layer's query builders take. */
  readonly sql: SqlHandle;
  read<R extends Record<string, Read<unknown>>>(reads: R): Promise<Values<R>>;
  /** One atomic write; its position in the store's commit log, when the store keeps one. */
  commit(statements: readonly WriteStatement[]): Promise<number | undefined>;
}

/** Everything a slice may use. */
export interface WriterHost {
  config: ConfigSource;
  ids: Ids;
  suppression: Suppression;
  store: Store;
}

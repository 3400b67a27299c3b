/**
 * The writer's hosts over D1: what the GraphWriter keeps between calls — its
 * configuration (it applies every write, so it owns graph rules and segment definitions;
 * config routes tell it when they change), the next free row ids (only the writer inserts
 * identities, history and deliveries) and the suppression hasher — and the store its
 * slices read from and commit to. None of these costs a round trip per call.
 */
import { createDb } from "../db/client";
import { idCountersRead } from "../db/queries/graph";
import { constantRead, readTogether, type Read, type WriteStatement } from "../db/queries/reads";
import { loadSegmentDefs } from "../db/queries/segments";
import { webhookDestinations } from "../db/queries/webhooks";
import type { Bindings } from "../env";
import { loadGraphRules } from "../graph/identity-config";
import { suppressionHasher } from "../privacy/suppression";
import type { ConfigSource, Counters, Ids, Store, Suppression, WriterConfig, WriterHost } from "./host";

/** A safety net only: config routes invalidate at once (`GraphWriter.configChanged`). */
const CONFIG_MAX_AGE_MS = 60_000;

class D1Config implements ConfigSource {
  private cached?: { value: Promise<WriterConfig>; loadedAt: number };

  constructor(private readonly d1: D1Database) {}

  current(): Promise<WriterConfig> {
    if (!this.cached || Date.now() - this.cached.loadedAt > CONFIG_MAX_AGE_MS) {
      const d1 = this.d1;
      const value = Promise.all([loadGraphRules(createDb(d1)), loadSegmentDefs(d1), webhookDestinations(d1)]).then(([rules, segments, webhooks]) => ({ rules, segments, webhooks }));
      this.cached = { value, loadedAt: Date.now() };
      value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

class D1Ids implements Ids {
  private counters?: Counters;

  constructor(private readonly d1: D1Database) {}

  countersRead(): Read<Counters> {
    return this.counters ? constantRead(this.counters) : idCountersRead(this.d1);
  }

  loaded(counters: Counters): void {
    this.counters ??= { ...counters };
  }

  async ensure(): Promise<void> {
    if (!this.counters) this.loaded((await readTogether(this.d1, { counters: idCountersRead(this.d1) })).counters);
  }

  identity(): number {
    return this.known().identity++;
  }

  history(n: number): number {
    const counters = this.known();
    const first = counters.history;
    counters.history += n;
    return first;
  }

  sequence(): number {
    return this.known().webhookSequence++;
  }

  private known(): Counters {
    if (!this.counters) throw new Error("writer ids used before they were loaded (call ids.ensure() or fold ids.countersRead() into the slice's read)");
    return this.counters;
  }
}

class D1Store implements Store {
  constructor(readonly sql: D1Database) {}

  read<R extends Record<string, Read<unknown>>>(reads: R) {
    return readTogether(this.sql, reads);
  }

  async commit(statements: readonly WriteStatement[]): Promise<void> {
    if (statements.length > 0) await this.sql.batch([...statements]);
  }
}

/** The writer's hosts, over `d1` (the metered handle in the writer, so round trips are counted). */
export function d1WriterHost(env: Bindings, d1: D1Database): WriterHost {
  let hasher: Promise<(text: string) => Promise<string>> | undefined;
  const suppression: Suppression = { hasher: () => (hasher ??= suppressionHasher(env)) };
  return { config: new D1Config(d1), ids: new D1Ids(d1), suppression, store: new D1Store(d1) };
}

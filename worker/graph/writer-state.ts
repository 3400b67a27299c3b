/**
 * What the GraphWriter keeps between calls: its configuration (graph rules and segment
 * definitions — it applies every write, so it owns them; config routes tell it when they
 * change), the next free row ids (only the writer inserts identities and history), and
 * the suppression hasher. None of these costs a D1 round trip per call.
 */
import { createDb } from "../db/client";
import { idCountersRead } from "../db/queries/graph";
import { constantRead, readTogether, type Read } from "../db/queries/reads";
import { loadSegmentDefs, type SegmentDef } from "../db/queries/segments";
import { webhookDestinations, type NewDelivery } from "../db/queries/webhooks";
import { buildDeliveries, type ActivationFact, type ProfileView, type WebhookDestination } from "../webhooks/outbox";
import type { Bindings } from "../env";
import { suppressionHasher } from "../privacy/suppression";
import { loadGraphRules } from "./identity-config";
import type { GraphRules } from "./workspace";

export interface WriterConfig {
  rules: GraphRules;
  segments: SegmentDef[];
  /** Webhook destinations: what the writer's commits are announced to. */
  webhooks: WebhookDestination[];
}

/** A safety net only: config routes invalidate at once (`GraphWriter.configChanged`). */
const CONFIG_MAX_AGE_MS = 60_000;

export class WriterState {
  private config?: { value: Promise<WriterConfig>; loadedAt: number };
  private counters?: { identity: number; history: number; webhookSequence: number };
  private hasher?: Promise<(text: string) => Promise<string>>;

  constructor(private readonly env: Bindings) {}

  currentConfig(d1: D1Database): Promise<WriterConfig> {
    if (!this.config || Date.now() - this.config.loadedAt > CONFIG_MAX_AGE_MS) {
      const value = Promise.all([loadGraphRules(createDb(d1)), loadSegmentDefs(d1), webhookDestinations(d1)]).then(([rules, segments, webhooks]) => ({ rules, segments, webhooks }));
      this.config = { value, loadedAt: Date.now() };
      value.catch(() => (this.config = undefined));
    }
    return this.config.value;
  }

  /** Namespaces, graph settings or segments changed: the next write reloads them. */
  invalidateConfig(): void {
    this.config = undefined;
  }

  /** The id counters, read from D1 only the first time (in the caller's read batch). */
  countersRead(d1: D1Database): Read<{ identity: number; history: number; webhookSequence: number }> {
    return this.counters ? constantRead(this.counters) : idCountersRead(d1);
  }

  hasCounters(): boolean {
    return this.counters !== undefined;
  }

  /** Call with what `countersRead` gave once the read ran. */
  setCounters(counters: { identity: number; history: number; webhookSequence: number }): void {
    this.counters ??= { ...counters };
  }

  /** The next webhook delivery sequence number (increases with every delivery). */
  nextWebhookSequence(): number {
    return this.counters!.webhookSequence++;
  }

  allocateIdentityId(): number {
    return this.counters!.identity++;
  }

  /** Reserves `n` history row ids and returns the first. */
  allocateHistoryIds(n: number): number {
    const first = this.counters!.history;
    this.counters!.history += n;
    return first;
  }

  /**
   * The webhook deliveries for `facts`, numbered from the writer's sequence (the counters
   * are read from D1 the first time only). Empty when no destination is configured.
   */
  async deliveriesFor(d1: D1Database, facts: readonly ActivationFact[], view: (profileId: string) => ProfileView | undefined): Promise<NewDelivery[]> {
    const { webhooks } = await this.currentConfig(d1);
    if (webhooks.length === 0 || facts.length === 0) return [];
    if (!this.counters) this.setCounters((await readTogether(d1, { counters: idCountersRead(d1) })).counters);
    return buildDeliveries(facts, webhooks, view, () => this.nextWebhookSequence());
  }

  suppressionHash(): Promise<(text: string) => Promise<string>> {
    this.hasher ??= suppressionHasher(this.env);
    return this.hasher;
  }
}

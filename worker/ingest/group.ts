/**
 * The serialized half of ingestion, run inside the GraphWriter for a *group* of calls
 * (group commit): calls that arrived while the previous group was being written are
 * applied together, in arrival order, exactly as if one after another — rule 6 holds by
 * construction — and written in one atomic batch. Named steps:
 *
 *  1. load     one round trip: suppressions, stored event ids, the touched graphs, and
 *              what their profiles hold (fragments, rule-relevant events, memberships);
 *  2. apply    in memory, call by call: checks, graph, fragments, events, and then the
 *              segment memberships of what the call touched — as a sequential run would
 *              have them after that call (a profile that enters and leaves within one
 *              group ends `exited`, as it would one call at a time);
 *  3. persist  one round trip: the graph changeset, fragments, events, display names and
 *              the memberships that changed.
 *
 * An atomic call with a rejected item changes nothing and does not affect the others.
 */
import { identityKey } from "../../shared/identity/normalize";
import { applyPatch } from "../../shared/merge-patch";
import { graphRead, graphWriteStatements, type LoadedGraph } from "../db/queries/graph";
import { eventInsertStatements, existingEventsRead, fragmentWriteStatements, suppressedRead, touchedProfileDataRead, type TouchedProfileData } from "../db/queries/ingest";
import { NAME_KEYS, profileNameStatements } from "../db/queries/profile-names";
import { readTogether } from "../db/queries/reads";
import { membershipWriteStatements, type SegmentDef } from "../db/queries/segments";
import { newProfileId } from "../graph/profile-id";
import { GraphWorkspace, highestPriority } from "../graph/workspace";
import type { WriterConfig, WriterState } from "../graph/writer-state";
import { DEFAULT_POLICY, displayNameOf, mergeFragments, type FragmentInput } from "../profiles/merge";
import { membershipRow, nextMembership, type MembershipState } from "../segments/evaluate";
import { eventNeedsOf, type RuleEvent } from "../segments/rules";
import { deliveryInsertStatements } from "../db/queries/webhooks";
import { graphActivation, type ActivationFact, type ProfileView } from "../webhooks/outbox";
import type { IngestCommand, ItemOutcome, NormalizedItem } from "./types";

/** One call's answer. */
export interface CallResult {
  outcomes: ItemOutcome[];
  /** Profiles the call's accepted items belong to, right after the call. */
  profiles: string[];
}

export interface GroupReport {
  calls: number;
  items: number;
  /** Milliseconds per step. */
  phases: Record<string, number>;
}

export interface GroupHooks {
  /** Test seam: runs before the persist batch (throw to simulate a failed D1 write, wait to hold the lane). */
  beforePersist?: (calls: readonly IngestCommand[]) => void | Promise<void>;
}

interface Fragment {
  dataset: string;
  key: string;
  attributes: Record<string, unknown>;
  updatedAt: number;
}

const fragmentId = (dataset: string, key: string) => `${dataset}\u0000${key}`;
const membershipKey = (segmentId: string, profileId: string) => `${segmentId}\u0000${profileId}`;
const hasNameKey = (attributes: Record<string, unknown> | undefined) => NAME_KEYS.some((k) => attributes !== undefined && Object.hasOwn(attributes, k));

function stopwatch() {
  const phases: Record<string, number> = {};
  let mark = performance.now();
  return {
    phases,
    lap(name: string) {
      const now = performance.now();
      phases[name] = (phases[name] ?? 0) + (now - mark);
      mark = now;
    },
  };
}

export async function applyIngestGroup(
  d1: D1Database,
  state: WriterState,
  calls: readonly IngestCommand[],
  hooks: GroupHooks = {},
): Promise<{ results: CallResult[]; report: GroupReport; deliveryIds: string[] }> {
  const clock = stopwatch();
  const config = await state.currentConfig(d1);
  const items = calls.flatMap((c) => c.items);
  // Segment windows are judged at the call's own time, as a sequential run would.
  const evaluatedAt = (call: IngestCommand) => Math.max(call.receivedAt, Date.now());

  const loaded = await loadForGroup(d1, state, config, items, Math.min(...calls.map(evaluatedAt)));
  clock.lap("load");

  const group = new GroupState(config, loaded);
  const results = calls.map((call) => group.applyCall(call, evaluatedAt(call)));
  clock.lap("apply");

  const rowIds = new Map<string, number>();
  const change = group.ws.changeset(group.touchedProfiles());
  for (const identity of change.identities) if (identity.id === undefined) rowIds.set(identity.key, state.allocateIdentityId());
  const rowId = (key: string) => group.ws.identities.get(key)?.id ?? rowIds.get(key);
  const statements = [
    ...graphWriteStatements(d1, change, rowId, { firstHistoryId: state.allocateHistoryIds(change.history.length), now: Math.max(...calls.map((c) => c.receivedAt)) }),
    ...fragmentWriteStatements(d1, group.changedFragments().map((f) => [f.dataset, rowId(f.key)!, f.attributes, f.updatedAt])),
    ...eventInsertStatements(d1, group.newEvents.map((e) => [e.item.event!.id, e.item.event!.type, e.item.at, e.item.dataset, rowId(e.anchor)!, e.item.event!.data, e.receivedAt])),
    ...profileNameStatements(d1, group.displayNames()),
    // After the graph statements, which delete the memberships of retired profiles.
    ...membershipWriteStatements(d1, group.changedMemberships()),
  ];
  // Webhook deliveries, in the same batch as the change (an outbox: a crash cannot lose one).
  const deliveries = await state.deliveriesFor(d1, group.activation, (p) => group.view(p));
  statements.push(...deliveryInsertStatements(d1, deliveries));
  await hooks.beforePersist?.(calls);
  if (statements.length > 0) await d1.batch(statements);
  clock.lap("persist");

  return { results, report: { calls: calls.length, items: items.length, phases: clock.phases }, deliveryIds: deliveries.map((d) => d.id) };
}

interface Loaded {
  hashOf: Map<string, string>;
  suppressed: Set<string>;
  existingEvents: Set<string>;
  graph: LoadedGraph;
  data: TouchedProfileData;
}

async function loadForGroup(d1: D1Database, state: WriterState, config: WriterConfig, items: readonly NormalizedItem[], earliest: number): Promise<Loaded> {
  const keys = [...new Set(items.flatMap((it) => it.identities.map((r) => identityKey(r.namespace, r.value))))];
  const hash = await state.suppressionHash();
  const hashOf = new Map(await Promise.all(keys.map(async (k) => [k, await hash(k)] as const)));
  const refs = items.flatMap((it) => it.identities);
  const needs = eventNeedsOf(config.segments.map((s) => s.rule), earliest);
  const read = await readTogether(d1, {
    suppressed: suppressedRead(d1, [...hashOf.values()]),
    existingEvents: existingEventsRead(d1, items.flatMap((it) => (it.event ? [it.event.id] : []))),
    graph: graphRead(d1, refs),
    data: touchedProfileDataRead(d1, refs, config.segments.length > 0 ? needs : undefined),
    counters: state.countersRead(d1),
  });
  state.setCounters(read.counters);
  return { hashOf, suppressed: read.suppressed, existingEvents: read.existingEvents, graph: read.graph, data: read.data };
}

/** The group's working state: the graph, fragments, events and memberships as calls change them. */
class GroupState {
  readonly ws: GraphWorkspace;
  readonly newEvents: { item: NormalizedItem; anchor: string; receivedAt: number }[] = [];
  /** Merges, splits, segment entries and exits, in the order a sequential run would see them. */
  readonly activation: ActivationFact[] = [];
  private historySeen = 0;
  private readonly segments: readonly SegmentDef[];
  private readonly fragments = new Map<string, Fragment>();
  private readonly fragmentsByIdentity = new Map<string, Set<string>>();
  private readonly changedFragmentIds = new Set<string>();
  private readonly eventsByIdentity = new Map<string, RuleEvent[]>();
  private readonly seenEvents: Set<string>;
  private readonly memberships = new Map<string, MembershipState>();
  private readonly changedMembershipKeys = new Set<string>();
  private readonly touched = new Set<string>();
  private readonly renamed = new Set<string>();

  constructor(
    config: WriterConfig,
    private readonly loaded: Loaded,
  ) {
    this.segments = config.segments;
    this.ws = new GraphWorkspace(config.rules, newProfileId);
    this.ws.load(loaded.graph.identities, loaded.graph.links);
    for (const f of loaded.data.fragments) this.setFragment({ dataset: f.dataset, key: identityKey(f.namespace, f.value), attributes: f.attributes, updatedAt: f.updatedAt });
    for (const e of loaded.data.events) this.addEvent(identityKey(e.namespace, e.value), { type: e.type, at: e.at, data: e.data });
    for (const m of loaded.data.memberships) this.memberships.set(membershipKey(m.segmentId, m.profileId), { status: m.status, since: m.since, recheckAt: m.recheckAt });
    this.seenEvents = new Set(loaded.existingEvents);
  }

  applyCall(call: IngestCommand, now: number): CallResult {
    // Checks first, without touching shared state: an atomic call that fails changes nothing.
    const outcomes = new Map<number, ItemOutcome>();
    const live: NormalizedItem[] = [];
    const callEvents = new Set<string>();
    for (const item of call.items) {
      const blocked = item.identities.find((r) => this.loaded.suppressed.has(this.loaded.hashOf.get(identityKey(r.namespace, r.value))!));
      if (blocked) {
        outcomes.set(item.index, { index: item.index, status: "rejected", error: { code: "suppressed_identity", message: `${blocked.namespace} identity was erased and is suppressed` } });
      } else if (item.event && (this.seenEvents.has(item.event.id) || callEvents.has(item.event.id))) {
        outcomes.set(item.index, { index: item.index, status: "duplicate" });
      } else {
        if (item.event) callEvents.add(item.event.id);
        live.push(item);
      }
    }
    const rejected = [...outcomes.values()].some((o) => o.status === "rejected");
    if (live.length === 0 || (call.atomic && rejected)) {
      return { outcomes: call.items.map((it) => outcomes.get(it.index) ?? { index: it.index, status: "duplicate" }), profiles: [] };
    }
    for (const id of callEvents) this.seenEvents.add(id);

    const anchors = new Map<number, string>();
    for (const item of live) anchors.set(item.index, this.applyItem(item, call.receivedAt));
    const profiles = [...new Set(live.map((it) => this.ws.profileOf(anchors.get(it.index)!)!))];
    for (const item of live) {
      const profileId = this.ws.profileOf(anchors.get(item.index)!)!;
      outcomes.set(item.index, { index: item.index, status: "accepted", profileId });
      if (item.kind === "record" && hasNameKey(item.attributes)) this.renamed.add(profileId);
    }
    for (const p of profiles) this.touched.add(p);
    // Merges and splits this call made, then the segment changes they and its data caused.
    this.activation.push(...graphActivation(this.ws.history.slice(this.historySeen)));
    this.historySeen = this.ws.history.length;
    this.evaluateSegments(profiles, now);
    return { outcomes: call.items.map((it) => outcomes.get(it.index)!), profiles };
  }

  /** Applies one item; returns the identity key it is anchored on. */
  private applyItem(item: NormalizedItem, receivedAt: number): string {
    this.ws.observe(item.identities, item.dataset, item.at);
    if (item.kind === "record") {
      const first = item.identities[0]!;
      const key = identityKey(first.namespace, first.value);
      const current = this.fragments.get(fragmentId(item.dataset, key));
      this.setFragment({
        dataset: item.dataset,
        key,
        attributes: applyPatch(current?.attributes ?? {}, item.attributes ?? {}),
        updatedAt: Math.max(current?.updatedAt ?? 0, item.at),
      });
      this.changedFragmentIds.add(fragmentId(item.dataset, key));
      if (item.event) this.addNewEvent(item, key, receivedAt); // a tracking identify/group receipt
      return key;
    }
    // An event belongs to its highest-priority identity: it follows it through splits.
    const key = highestPriority(item.identities, this.ws.rules).key;
    if (item.kind === "event") this.addNewEvent(item, key, receivedAt);
    return key;
  }

  private addNewEvent(item: NormalizedItem, anchor: string, receivedAt: number): void {
    this.newEvents.push({ item, anchor, receivedAt });
    this.addEvent(anchor, { type: item.event!.type, at: item.at, data: item.event!.data });
  }

  /**
   * Memberships after a call, for the profiles it touched and those whose membership
   * changed (a merge or a split); retired profiles lose theirs, as the graph write does.
   */
  private evaluateSegments(touched: readonly string[], now: number): void {
    const changed = this.ws.takeRecentChanges();
    for (const p of changed) {
      if (this.ws.members.has(p)) continue;
      for (const s of this.segments) {
        this.memberships.delete(membershipKey(s.id, p));
        this.changedMembershipKeys.delete(membershipKey(s.id, p));
      }
    }
    if (this.segments.length === 0) return;
    for (const profileId of new Set([...touched, ...changed])) {
      if (!this.ws.members.has(profileId)) continue;
      const subject = { attributes: this.mergedAttributes(profileId), events: this.eventsOf(profileId) };
      for (const segment of this.segments) {
        const key = membershipKey(segment.id, profileId);
        const was = this.memberships.get(key);
        const next = nextMembership(segment, subject, was, now);
        if (!next) continue;
        if (next.status !== was?.status && (next.status === "realized" || was?.status === "realized")) {
          this.activation.push({ type: next.status === "realized" ? "segment.entered" : "segment.exited", profileId, at: now, segmentId: segment.id });
        }
        this.memberships.set(key, next);
        this.changedMembershipKeys.add(key);
      }
    }
  }

  /** Rows for the memberships that differ from what was loaded. */
  changedMemberships(): unknown[][] {
    return [...this.changedMembershipKeys].flatMap((key) => {
      const m = this.memberships.get(key);
      if (!m) return [];
      const [segmentId, profileId] = key.split("\u0000") as [string, string];
      return this.ws.members.has(profileId) ? [membershipRow(segmentId, profileId, m)] : [];
    });
  }

  changedFragments(): Fragment[] {
    return [...this.changedFragmentIds].map((id) => this.fragments.get(id)!);
  }

  /** What a webhook delivery says of a profile: its primary identity and merged attributes. */
  view(profileId: string): ProfileView | undefined {
    const primary = this.ws.primaryIdentity(profileId);
    if (!primary) return undefined;
    return { primaryIdentity: { namespace: primary.namespace, id: primary.value }, attributes: this.mergedAttributes(profileId) };
  }

  /** Live profiles that got an accepted item (their `updated_at` moves). */
  touchedProfiles(): string[] {
    return [...this.touched].filter((p) => this.ws.members.has(p));
  }

  /**
   * Display names of the profiles whose names may have changed: those that got a record
   * with a name field, and those whose membership changed (a merge can bring a name, a
   * split can take it away). The most recently written name wins.
   */
  displayNames(): [string, string | null][] {
    const profiles = new Set([...this.renamed, ...this.ws.changedLiveProfiles()].filter((p) => this.ws.members.has(p)));
    return [...profiles].map((p) => [p, displayNameOf(this.mergedAttributes(p)) ?? null]);
  }

  private mergedAttributes(profileId: string): Record<string, unknown> {
    const inputs: FragmentInput[] = [];
    for (const key of this.ws.members.get(profileId) ?? []) {
      const identity = this.ws.identities.get(key)!;
      for (const id of this.fragmentsByIdentity.get(key) ?? []) {
        const f = this.fragments.get(id)!;
        inputs.push({ dataset: f.dataset, namespace: identity.namespace, value: identity.value, attributes: f.attributes, updatedAt: f.updatedAt });
      }
    }
    return mergeFragments(inputs, DEFAULT_POLICY).attributes;
  }

  private eventsOf(profileId: string): RuleEvent[] {
    return [...(this.ws.members.get(profileId) ?? [])].flatMap((key) => this.eventsByIdentity.get(key) ?? []);
  }

  private setFragment(f: Fragment): void {
    const id = fragmentId(f.dataset, f.key);
    this.fragments.set(id, f);
    if (!this.fragmentsByIdentity.has(f.key)) this.fragmentsByIdentity.set(f.key, new Set());
    this.fragmentsByIdentity.get(f.key)!.add(id);
  }

  private addEvent(key: string, event: RuleEvent): void {
    if (!this.eventsByIdentity.has(key)) this.eventsByIdentity.set(key, []);
    this.eventsByIdentity.get(key)!.push(event);
  }
}

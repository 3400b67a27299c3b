/**
 * The serialized half of ingestion, run inside the GraphWriter for a *group* of calls
 * (group commit): calls that arrived while the previous group was being written are
 * applied together, in arrival order, as if one after another — so rule 6 holds by
 * construction — and written in one atomic batch. Named steps:
 *
 *  1. load      one round trip: suppressions, stored event ids, the touched graphs, the
 *               fragments records patch, display-name fragments, and (once) id counters;
 *  2. apply     in memory, call by call and item by item; a call's answer (its outcomes
 *               and profile ids) is taken when its own items are applied;
 *  3. persist   one round trip: graph changeset, fragments, events, names — and, in the
 *               same batch after the writes, the facts segment evaluation needs;
 *  4. segments  evaluated in memory with the writer's segment definitions; one more round
 *               trip only when a membership actually changes.
 *
 * An atomic call with a rejected item changes nothing and does not affect the others.
 */
import { identityKey } from "../../shared/identity/normalize";
import { applyPatch } from "../../shared/merge-patch";
import { graphRead, graphWriteStatements } from "../db/queries/graph";
import { eventInsertStatements, existingEventsRead, fragmentsRead, fragmentWriteStatements, suppressedRead } from "../db/queries/ingest";
import { NAME_KEYS, nameFragmentsRead, profileNameFragmentsRead, profileNameStatements, type NameFragment } from "../db/queries/profile-names";
import { constantRead, readTogether, writeThenRead } from "../db/queries/reads";
import { GraphWorkspace, highestPriority, type GraphRules } from "../graph/workspace";
import type { WriterState } from "../graph/writer-state";
import { DEFAULT_POLICY, displayNameOf, mergeFragments, type FragmentInput } from "../profiles/merge";
import { evaluateFacts, factsRead } from "../segments/evaluate";
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
  /** Test seam: runs before the persist batch (throw to simulate a failed D1 write). */
  beforePersist?: (calls: readonly IngestCommand[]) => void;
}

interface Fragment {
  dataset: string;
  key: string;
  attributes: Record<string, unknown>;
  updatedAt: number;
}

const fragmentId = (dataset: string, key: string) => `${dataset}\u0000${key}`;
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
): Promise<{ results: CallResult[]; report: GroupReport }> {
  const clock = stopwatch();
  const config = await state.currentConfig(d1);
  const items = calls.flatMap((c) => c.items);

  // 1. load
  const loaded = await loadForGroup(d1, state, items);
  clock.lap("load");

  // 2. apply
  const applied = applyCalls(config.rules, calls, loaded);
  clock.lap("apply");

  // 3. persist (+ the facts for segment evaluation, read after the writes)
  const names = await displayNames(d1, applied, loaded.names);
  const rowIds = new Map<string, number>();
  const change = applied.ws.changeset(applied.touched);
  for (const identity of change.identities) if (identity.id === undefined) rowIds.set(identity.key, state.allocateIdentityId());
  const rowId = (key: string) => applied.ws.identities.get(key)?.id ?? rowIds.get(key);
  const now = Math.max(Date.now(), ...calls.map((c) => c.receivedAt));
  const statements = [
    ...graphWriteStatements(d1, change, rowId, { firstHistoryId: state.allocateHistoryIds(change.history.length), now: Math.max(...calls.map((c) => c.receivedAt)) }),
    ...fragmentWriteStatements(d1, applied.fragmentRows.map((f) => [f.dataset, rowId(f.key)!, f.attributes, f.updatedAt])),
    ...eventInsertStatements(d1, applied.eventRows.map((e) => [e.item.event!.id, e.item.event!.type, e.item.at, e.item.dataset, rowId(e.anchor)!, e.item.event!.data, e.receivedAt])),
    ...profileNameStatements(d1, names),
  ];
  const evaluate = [...new Set([...applied.touched, ...applied.ws.changedLiveProfiles()])];
  hooks.beforePersist?.(calls);
  const { facts } = await writeThenRead(d1, statements, { facts: factsRead(d1, evaluate, config.segments, now) });
  clock.lap("persist");

  // 4. segments: the data is committed; a failed membership write is retried, never
  // reported as a failed call (that would make clients resend stored data).
  const evaluation = evaluateFacts(d1, evaluate, config.segments, facts, now);
  if (evaluation.statements.length > 0) {
    try {
      await d1.batch(evaluation.statements);
    } catch {
      await d1.batch(evaluation.statements).catch((err) => console.error(`segment memberships not written for ${evaluate.length} profiles: ${err instanceof Error ? err.message : err}`));
    }
  }
  clock.lap("segments");

  return { results: applied.results, report: { calls: calls.length, items: items.length, phases: clock.phases } };
}

interface Loaded {
  hashOf: Map<string, string>;
  suppressed: Set<string>;
  existingEvents: Set<string>;
  graph: { identities: import("../graph/workspace").IdentityState[]; links: import("../graph/workspace").LinkState[] };
  fragments: Fragment[];
  /** Name fields of every fragment of the touched profiles, when the group can change names of stored profiles. */
  names: NameFragment[] | undefined;
}

async function loadForGroup(d1: D1Database, state: WriterState, items: readonly NormalizedItem[]): Promise<Loaded> {
  const keys = [...new Set(items.flatMap((it) => it.identities.map((r) => identityKey(r.namespace, r.value))))];
  const hash = await state.suppressionHash();
  const hashOf = new Map(await Promise.all(keys.map(async (k) => [k, await hash(k)] as const)));
  const refs = items.flatMap((it) => it.identities);
  // Names of stored profiles change only through a record with a name field or a
  // membership change, which needs an item with 2+ identities (or a config change: then
  // displayNames reads what is missing).
  const mayRename = items.some((it) => it.identities.length > 1 || (it.kind === "record" && hasNameKey(it.attributes)));
  const read = await readTogether(d1, {
    suppressed: suppressedRead(d1, [...hashOf.values()]),
    existingEvents: existingEventsRead(d1, items.flatMap((it) => (it.event ? [it.event.id] : []))),
    graph: graphRead(d1, refs),
    fragments: fragmentsRead(d1, items.filter((it) => it.kind === "record").map((it) => ({ dataset: it.dataset, ...it.identities[0]! }))),
    names: mayRename ? profileNameFragmentsRead(d1, refs) : constantRead(undefined),
    counters: state.countersRead(d1),
  });
  state.setCounters(read.counters);
  return {
    hashOf,
    suppressed: read.suppressed,
    existingEvents: read.existingEvents,
    graph: read.graph,
    fragments: read.fragments.map((f) => ({ dataset: f.dataset, key: identityKey(f.namespace, f.value), attributes: f.attributes, updatedAt: f.updatedAt })),
    names: read.names,
  };
}

interface Applied {
  ws: GraphWorkspace;
  results: CallResult[];
  /** Profiles of accepted items (their `updated_at` moves). */
  touched: Set<string>;
  fragmentState: Map<string, Fragment>;
  fragmentRows: Fragment[];
  eventRows: { item: NormalizedItem; anchor: string; receivedAt: number }[];
  /** Profiles that got a record with a name field. */
  renamed: Set<string>;
}

function applyCalls(rules: GraphRules, calls: readonly IngestCommand[], loaded: Loaded): Applied {
  const ws = new GraphWorkspace(rules, () => crypto.randomUUID());
  ws.load(loaded.graph.identities, loaded.graph.links);
  const fragmentState = new Map(loaded.fragments.map((f) => [fragmentId(f.dataset, f.key), f]));
  const seenEvents = new Set(loaded.existingEvents);
  const changedFragments = new Set<string>();
  const eventRows: Applied["eventRows"] = [];
  const touched = new Set<string>();
  const renamed = new Set<string>();
  const results: CallResult[] = [];

  for (const call of calls) {
    // Checks first, without touching shared state: an atomic call that fails changes nothing.
    const outcomes = new Map<number, ItemOutcome>();
    const live: NormalizedItem[] = [];
    const callEvents = new Set<string>();
    for (const item of call.items) {
      const blocked = item.identities.find((r) => loaded.suppressed.has(loaded.hashOf.get(identityKey(r.namespace, r.value))!));
      if (blocked) {
        outcomes.set(item.index, { index: item.index, status: "rejected", error: { code: "suppressed_identity", message: `${blocked.namespace} identity was erased and is suppressed` } });
      } else if (item.event && (seenEvents.has(item.event.id) || callEvents.has(item.event.id))) {
        outcomes.set(item.index, { index: item.index, status: "duplicate" });
      } else {
        if (item.event) callEvents.add(item.event.id);
        live.push(item);
      }
    }
    const rejected = [...outcomes.values()].some((o) => o.status === "rejected");
    if (live.length === 0 || (call.atomic && rejected)) {
      results.push({ outcomes: call.items.map((it) => outcomes.get(it.index) ?? { index: it.index, status: "duplicate" }), profiles: [] });
      continue;
    }
    for (const id of callEvents) seenEvents.add(id);

    const anchors = new Map<number, string>();
    for (const item of live) {
      ws.observe(item.identities, item.dataset, item.at);
      if (item.kind === "record") {
        const first = item.identities[0]!;
        const key = identityKey(first.namespace, first.value);
        const id = fragmentId(item.dataset, key);
        const current = fragmentState.get(id);
        fragmentState.set(id, {
          dataset: item.dataset,
          key,
          attributes: applyPatch(current?.attributes ?? {}, item.attributes ?? {}),
          updatedAt: Math.max(current?.updatedAt ?? 0, item.at),
        });
        changedFragments.add(id);
        anchors.set(item.index, key);
      } else {
        // An event belongs to its highest-priority identity: it follows it through splits.
        const key = highestPriority(item.identities, rules).key;
        if (item.kind === "event") eventRows.push({ item, anchor: key, receivedAt: call.receivedAt });
        anchors.set(item.index, key);
      }
    }
    for (const item of live) {
      const profileId = ws.profileOf(anchors.get(item.index)!)!;
      outcomes.set(item.index, { index: item.index, status: "accepted", profileId });
      if (item.kind === "record" && hasNameKey(item.attributes)) renamed.add(profileId);
    }
    const profiles = [...new Set(live.map((it) => ws.profileOf(anchors.get(it.index)!)!))];
    for (const p of profiles) touched.add(p);
    results.push({ outcomes: call.items.map((it) => outcomes.get(it.index)!), profiles });
  }
  return {
    ws,
    results,
    // A profile a later call merged away is not live any more.
    touched: new Set([...touched].filter((p) => ws.members.has(p))),
    fragmentState,
    fragmentRows: [...changedFragments].map((id) => fragmentState.get(id)!),
    eventRows,
    renamed: new Set([...renamed].filter((p) => ws.members.has(p))),
  };
}

/**
 * Display names of the profiles whose names may have changed: those that got a record
 * with a name field, and those whose membership changed (a merge can bring a name, a
 * split can take it away). The most recently written name wins.
 */
async function displayNames(d1: D1Database, applied: Applied, prefetched: NameFragment[] | undefined): Promise<[string, string | null][]> {
  const { ws } = applied;
  const profiles = new Set([...applied.renamed, ...ws.changedLiveProfiles()]);
  if (profiles.size === 0) return [];

  const keyOfId = new Map<number, string>();
  for (const p of profiles) for (const k of ws.members.get(p)!) {
    const id = ws.identities.get(k)!.id;
    if (id !== undefined) keyOfId.set(id, k);
  }
  let stored = prefetched;
  if (stored === undefined && keyOfId.size > 0) {
    // Only after a config change re-resolved stored graphs: read what the load skipped.
    stored = (await readTogether(d1, { names: nameFragmentsRead(d1, [...keyOfId.keys()]) })).names;
  }
  const fragments = new Map<string, FragmentInput>();
  for (const f of stored ?? []) {
    const key = keyOfId.get(f.identityId);
    if (!key) continue;
    const identity = ws.identities.get(key)!;
    fragments.set(fragmentId(f.dataset, key), { dataset: f.dataset, namespace: identity.namespace, value: identity.value, attributes: f.names, updatedAt: f.updatedAt });
  }
  for (const [id, f] of applied.fragmentState) {
    const identity = ws.identities.get(f.key);
    if (identity) fragments.set(id, { dataset: f.dataset, namespace: identity.namespace, value: identity.value, attributes: f.attributes, updatedAt: f.updatedAt });
  }
  const byProfile = new Map<string, FragmentInput[]>();
  for (const [id, f] of fragments) {
    const profile = ws.profileOf(id.slice(id.indexOf("\u0000") + 1));
    if (!profile || !profiles.has(profile)) continue;
    if (!byProfile.has(profile)) byProfile.set(profile, []);
    byProfile.get(profile)!.push(f);
  }
  return [...profiles].map((p) => [p, displayNameOf(mergeFragments(byProfile.get(p) ?? [], DEFAULT_POLICY).attributes) ?? null]);
}

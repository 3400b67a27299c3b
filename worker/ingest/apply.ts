/**
 * The serialized half of ingestion, run inside the GraphWriter (one call at a time):
 * suppression and idempotency checks, the identity graph, fragment merges and event
 * inserts — read once, applied in memory item by item, written in one atomic batch.
 */
import { identityKey } from "../../shared/identity/normalize";
import { applyPatch } from "../../shared/merge-patch";
import { allocateIdentityIds, graphWriteStatements, loadGraph, nextIds } from "../db/queries/graph";
import {
  eventInsertStatements,
  findExistingEventIds,
  findSuppressed,
  fragmentWriteStatements,
  loadFragments,
} from "../db/queries/ingest";
import type { Bindings } from "../env";
import { GraphWorkspace, highestPriority, type GraphRules } from "../graph/workspace";
import { suppressionHasher } from "../privacy/suppression";
import { loadNameFragments, NAME_KEYS, profileNameStatements } from "../db/queries/profile-names";
import { DEFAULT_POLICY, displayNameOf, mergeFragments, type FragmentInput } from "../profiles/merge";
import { loadSegmentDefs } from "../db/queries/segments";
import { evaluateSegments } from "../segments/evaluate";
import type { IngestCommand, ItemOutcome, NormalizedItem } from "./types";

export interface IngestApplied {
  outcomes: ItemOutcome[];
  /** Profiles the accepted items belong to after the call. */
  profiles: string[];
  statements: number;
  /** Milliseconds per phase: checks (suppression, idempotency), load, apply, write. */
  phases: Record<string, number>;
}

export async function applyIngest(env: Bindings, command: IngestCommand, rules: GraphRules): Promise<IngestApplied> {
  const d1 = env.DB;
  const outcomes = new Map<number, ItemOutcome>();
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = now - mark;
    mark = now;
  };

  // 1. Suppressed identities and already-stored events.
  const keys = [...new Set(command.items.flatMap((it) => it.identities.map((r) => identityKey(r.namespace, r.value))))];
  const hash = await suppressionHasher(env);
  const hashOf = new Map(await Promise.all(keys.map(async (k) => [k, await hash(k)] as const)));
  const eventIds = command.items.flatMap((it) => (it.event ? [it.event.id] : []));
  const [suppressed, existingEvents] = await Promise.all([
    findSuppressed(d1, [...hashOf.values()]),
    findExistingEventIds(d1, eventIds),
  ]);

  const seenEvents = new Set(existingEvents);
  const live: NormalizedItem[] = [];
  for (const item of command.items) {
    const blocked = item.identities.find((r) => suppressed.has(hashOf.get(identityKey(r.namespace, r.value))!));
    if (blocked) {
      outcomes.set(item.index, {
        index: item.index,
        status: "rejected",
        error: { code: "suppressed_identity", message: `${blocked.namespace} identity was erased and is suppressed` },
      });
    } else if (item.event && seenEvents.has(item.event.id)) {
      outcomes.set(item.index, { index: item.index, status: "duplicate" });
    } else {
      if (item.event) seenEvents.add(item.event.id);
      live.push(item);
    }
  }
  phase("checks");
  const rejected = [...outcomes.values()].some((o) => o.status === "rejected");
  if (live.length === 0 || (command.atomic && rejected)) {
    return { outcomes: command.items.map((it) => outcomes.get(it.index) ?? { index: it.index, status: "duplicate" }), profiles: [], statements: 0, phases };
  }

  // 2. The touched graphs and fragments, loaded once.
  const refs = live.flatMap((it) => it.identities);
  const recordTargets = live.filter((it) => it.kind === "record").map((it) => ({ dataset: it.dataset, ...it.identities[0]! }));
  const [graph, fragments, ids] = await Promise.all([loadGraph(d1, refs), loadFragments(d1, recordTargets), nextIds(d1)]);

  phase("load");

  // 3. Apply item by item, in order — the same result as one call per item.
  const ws = new GraphWorkspace(rules, () => crypto.randomUUID());
  ws.load(graph.identities, graph.links);
  const fragmentState = new Map<string, { dataset: string; key: string; attributes: Record<string, unknown>; updatedAt: number }>();
  for (const f of fragments) {
    const key = identityKey(f.namespace, f.value);
    fragmentState.set(`${f.dataset}\u0000${key}`, { dataset: f.dataset, key, attributes: f.attributes, updatedAt: f.updatedAt });
  }
  const anchors = new Map<number, string>();
  const events: { item: NormalizedItem; anchor: string }[] = [];
  for (const item of live) {
    ws.observe(item.identities, item.dataset, item.at);
    if (item.kind === "record") {
      const first = item.identities[0]!;
      const key = identityKey(first.namespace, first.value);
      const id = `${item.dataset}\u0000${key}`;
      const current = fragmentState.get(id);
      fragmentState.set(id, {
        dataset: item.dataset,
        key,
        attributes: applyPatch(current?.attributes ?? {}, item.attributes ?? {}),
        updatedAt: Math.max(current?.updatedAt ?? 0, item.at),
      });
      anchors.set(item.index, key);
    } else if (item.kind === "event") {
      // An event belongs to its highest-priority identity: it follows it through splits.
      const key = highestPriority(item.identities, rules).key;
      events.push({ item, anchor: key });
      anchors.set(item.index, key);
    } else {
      anchors.set(item.index, highestPriority(item.identities, rules).key);
    }
  }

  phase("apply");

  // 4. One atomic batch: graph, fragments (+ attribute index), events.
  allocateIdentityIds(ws, ids);
  const profiles = [...new Set(live.map((it) => ws.profileOf(anchors.get(it.index)!)!))];
  const changedFragments = live.filter((it) => it.kind === "record").map((it) => `${it.dataset}\u0000${anchors.get(it.index)}`);
  const fragmentRows = [...new Set(changedFragments)].map((id) => {
    const f = fragmentState.get(id)!;
    return [f.dataset, ws.identities.get(f.key)!.id!, f.attributes, f.updatedAt] as [string, number, Record<string, unknown>, number];
  });
  const eventRows = events.map(({ item, anchor }) => [
    item.event!.id,
    item.event!.type,
    item.at,
    item.dataset,
    ws.identities.get(anchor)!.id!,
    item.event!.data,
    command.receivedAt,
  ]);
  const names = await displayNames(d1, ws, live, anchors, fragmentState);
  const statements = [
    ...graphWriteStatements(d1, ws, { nextHistoryId: ids.history, now: command.receivedAt, touchedProfiles: profiles }),
    ...fragmentWriteStatements(d1, fragmentRows),
    ...eventInsertStatements(d1, eventRows),
    ...profileNameStatements(d1, names),
  ];
  phase("build");
  await d1.batch(statements);
  phase("write");

  // 5. Streaming segments: the next lookup or context already sees the new membership.
  const touched = new Set(profiles);
  for (const p of ws.changedProfiles) if (ws.members.has(p)) touched.add(p);
  const segments = await loadSegmentDefs(d1);
  const evaluation = await evaluateSegments(d1, [...touched], segments, command.receivedAt > Date.now() ? command.receivedAt : Date.now());
  if (evaluation.statements.length > 0) await d1.batch(evaluation.statements);
  phase("segments");

  for (const item of live) {
    outcomes.set(item.index, { index: item.index, status: "accepted", profileId: ws.profileOf(anchors.get(item.index)!)! });
  }
  return { outcomes: command.items.map((it) => outcomes.get(it.index)!), profiles, statements: statements.length + evaluation.statements.length, phases };
}

const hasNameKey = (attributes: Record<string, unknown> | undefined) => NAME_KEYS.some((k) => attributes && k in attributes);

/**
 * Display names of the profiles whose names may have changed in this call: those that
 * got a record with a name field, and those whose membership changed (a merge can bring a
 * name, a split can take it away). The most recently written name wins.
 */
async function displayNames(
  d1: D1Database,
  ws: GraphWorkspace,
  live: readonly NormalizedItem[],
  anchors: Map<number, string>,
  written: Map<string, { dataset: string; key: string; attributes: Record<string, unknown>; updatedAt: number }>,
): Promise<[string, string | null][]> {
  const profiles = new Set<string>();
  for (const item of live) if (item.kind === "record" && hasNameKey(item.attributes)) profiles.add(ws.profileOf(anchors.get(item.index)!)!);
  for (const p of ws.changedProfiles) if (ws.members.has(p)) profiles.add(p);
  if (profiles.size === 0) return [];

  const keyOfId = new Map<number, string>();
  for (const p of profiles) for (const k of ws.members.get(p)!) keyOfId.set(ws.identities.get(k)!.id!, k);
  const fragments = new Map<string, FragmentInput>();
  for (const f of await loadNameFragments(d1, [...keyOfId.keys()])) {
    const key = keyOfId.get(f.identityId)!;
    const identity = ws.identities.get(key)!;
    fragments.set(`${f.dataset}\u0000${key}`, { dataset: f.dataset, namespace: identity.namespace, value: identity.value, attributes: f.names, updatedAt: f.updatedAt });
  }
  for (const [id, f] of written) {
    const identity = ws.identities.get(f.key);
    if (identity) fragments.set(id, { dataset: f.dataset, namespace: identity.namespace, value: identity.value, attributes: f.attributes, updatedAt: f.updatedAt });
  }
  const byProfile = new Map<string, FragmentInput[]>();
  for (const [id, f] of fragments) {
    const key = id.slice(id.indexOf("\u0000") + 1);
    const profile = ws.profileOf(key);
    if (!profile || !profiles.has(profile)) continue;
    if (!byProfile.has(profile)) byProfile.set(profile, []);
    byProfile.get(profile)!.push(f);
  }
  return [...profiles].map((p) => [p, displayNameOf(mergeFragments(byProfile.get(p) ?? [], DEFAULT_POLICY).attributes) ?? null]);
}

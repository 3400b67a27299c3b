/**
 * The serialized half of ingestion, for a *group* of calls (group commit): calls that
 * arrived while the previous group was being written are applied together, in arrival
 * order, exactly as if one after another — rule 6 holds by construction — and committed
 * in one atomic write. Named steps:
 *
 *  1. load   one read: suppressions, stored event ids, the touched graphs, and what their
 *            profiles hold (fragments, rule-relevant events, memberships);
 *  2. apply  in memory, call by call: checks, graph, fragments, events, and then the
 *            segment memberships of what the call touched (`WorkingSet.afterChange`) — a
 *            profile that enters and leaves within one group ends `exited`, as it would
 *            one call at a time.
 *
 * The slice result then goes through the one commit step (`../commit.ts`). An atomic call
 * with a rejected item changes nothing and does not affect the others.
 *
 * Host slice: `config`, `suppression`, `store` (the load), `ids` (through the working set).
 */
import { identityKey } from "../../../shared/identity/normalize";
import { existingEventsRead, suppressedRead } from "../../db/queries/ingest";
import { NAME_KEYS } from "../../db/queries/profile-names";
import { type GraphEffect, graphEffect } from "../../graph/effect";
import type { IngestCommand, ItemOutcome, NormalizedItem } from "../../ingest/types";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";
import type { CallResult } from "../types";
import { WorkingSet, workingSetReads } from "./working-set";

const hasNameKey = (attributes: Record<string, unknown> | undefined) =>
  NAME_KEYS.some((k) => attributes !== undefined && Object.hasOwn(attributes, k));

/** Milliseconds per named step, accumulated. */
export function stopwatch() {
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

interface Checks {
  hashOf: Map<string, string>;
  suppressed: Set<string>;
  seenEvents: Set<string>;
}

export async function ingestGroup(
  host: WriterHost,
  calls: readonly IngestCommand[],
  clock: ReturnType<typeof stopwatch>,
): Promise<{ results: CallResult[]; slice: SliceResult }> {
  const { set, results } = await applyGroup(host, calls, clock);
  const statements = set.statements(host, Math.max(...calls.map((c) => c.receivedAt)));
  clock.lap("apply");
  return { results, slice: { statements, activation: set.activation, view: (p) => set.view(p) } };
}

/**
 * A dry run (SPEC §9): the call applied exactly as `ingestGroup` would, and its effect on
 * the graphs — but nothing written and no id taken.
 */
export async function dryRunGroup(
  host: WriterHost,
  call: IngestCommand,
): Promise<{ result: CallResult; effect: GraphEffect }> {
  let before = new Map<string, string[]>();
  const { set, results } = await applyGroup(host, [call], stopwatch(), (loaded) => {
    before = new Map([...loaded.ws.members].map(([p, keys]) => [p, [...keys]]));
  });
  const after = new Map([...set.ws.members].map(([p, keys]) => [p, [...keys]]));
  return {
    result: results[0]!,
    effect: graphEffect(set.ws.history, set.activation, before, after),
  };
}

async function applyGroup(
  host: WriterHost,
  calls: readonly IngestCommand[],
  clock: ReturnType<typeof stopwatch>,
  loaded?: (set: WorkingSet) => void,
): Promise<{ set: WorkingSet; results: CallResult[] }> {
  const config = await host.config.current();
  const items = calls.flatMap((c) => c.items);
  // Segment windows are judged at the call's own time, as a sequential run would.
  const evaluatedAt = (call: IngestCommand) => Math.max(call.receivedAt, Date.now());

  const keys = [
    ...new Set(items.flatMap((it) => it.identities.map((r) => identityKey(r.namespace, r.value)))),
  ];
  const hash = await host.suppression.hasher();
  const hashOf = new Map(await Promise.all(keys.map(async (k) => [k, await hash(k)] as const)));
  const sql = host.store.sql;
  const read = await host.store.read({
    suppressed: suppressedRead(sql, [...hashOf.values()]),
    existingEvents: existingEventsRead(
      sql,
      items.flatMap((it) => (it.event ? [it.event.id] : [])),
    ),
    ...workingSetReads(
      host,
      config,
      items.flatMap((it) => it.identities),
      Math.min(...calls.map(evaluatedAt)),
      config.readsConsent || items.some((it) => it.kind === "consent" || it.requires),
    ),
  });
  host.ids.loaded(read.counters);
  clock.lap("load");

  const set = new WorkingSet(config, read.graph, read.data, read.choices);
  loaded?.(set);
  const checks: Checks = {
    hashOf,
    suppressed: read.suppressed,
    seenEvents: new Set(read.existingEvents),
  };
  const results = calls.map((call) => applyCall(set, checks, call, evaluatedAt(call)));
  return { set, results };
}

function applyCall(set: WorkingSet, checks: Checks, call: IngestCommand, now: number): CallResult {
  // Checks first, without touching shared state: an atomic call that fails changes nothing.
  const outcomes = new Map<number, ItemOutcome>();
  const live: NormalizedItem[] = [];
  const callEvents = new Set<string>();
  for (const item of call.items) {
    const blocked = item.identities.find((r) =>
      checks.suppressed.has(checks.hashOf.get(identityKey(r.namespace, r.value))!),
    );
    if (blocked) {
      outcomes.set(item.index, {
        index: item.index,
        status: "rejected",
        error: {
          code: "suppressed_identity",
          message: `${blocked.namespace} identity was erased and is suppressed`,
        },
      });
    } else if (
      item.event &&
      (checks.seenEvents.has(item.event.id) || callEvents.has(item.event.id))
    ) {
      outcomes.set(item.index, { index: item.index, status: "duplicate" });
    } else {
      if (item.event) callEvents.add(item.event.id);
      live.push(item);
    }
  }
  const rejected = [...outcomes.values()].some((o) => o.status === "rejected");
  if (live.length === 0 || (call.atomic && rejected)) {
    return {
      outcomes: call.items.map(
        (it) => outcomes.get(it.index) ?? { index: it.index, status: "duplicate" },
      ),
      profiles: [],
    };
  }
  for (const id of callEvents) checks.seenEvents.add(id);

  const anchors = new Map<number, string>();
  for (const item of live) {
    // Browser collection needs `analytics` (SPEC §8), judged with the choices made so far in this call.
    if (item.requires && !set.allows(item.identities, item.requires))
      outcomes.set(item.index, { index: item.index, status: "ignored", reason: "consent" });
    else anchors.set(item.index, applyItem(set, item, call.receivedAt));
  }
  const applied = live.filter((it) => anchors.has(it.index));
  const profiles = [...new Set(applied.map((it) => set.ws.profileOf(anchors.get(it.index)!)!))];
  for (const item of applied) {
    const profileId = set.ws.profileOf(anchors.get(item.index)!)!;
    outcomes.set(item.index, { index: item.index, status: "accepted", profileId });
    set.touch(profileId, {
      data: item.kind === "record" || item.kind === "consent",
      renamed: item.kind === "record" && hasNameKey(item.attributes),
    });
  }
  set.afterChange(profiles, now);
  return { outcomes: call.items.map((it) => outcomes.get(it.index)!), profiles };
}

/** Applies one item; returns the identity key it is anchored on. */
function applyItem(set: WorkingSet, item: NormalizedItem, receivedAt: number): string {
  if (item.kind === "consent")
    return set.recordConsent(
      item.identities,
      item.consent!.purposes,
      item.consent!.source,
      item.at,
      receivedAt,
    );
  set.ws.observe(item.identities, item.dataset, item.at);
  const event = (anchor: string) => ({
    id: item.event!.id,
    type: item.event!.type,
    at: item.at,
    dataset: item.dataset,
    anchor,
    data: item.event!.data,
    receivedAt,
  });
  if (item.kind === "record") {
    const first = item.identities[0]!;
    const key = identityKey(first.namespace, first.value);
    set.patchFragment(item.dataset, key, item.attributes ?? {}, item.at);
    if (item.event) set.addNewEvent(event(key)); // a tracking identify/group receipt
    return key;
  }
  const key = set.eventAnchor(item.identities);
  if (item.kind === "event") set.addNewEvent(event(key));
  return key;
}

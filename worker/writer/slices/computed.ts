/**
 * Computed attributes' background work (SPEC §7), each step a background slice in the
 * writer's lane, so it never races an ingest of the same profile:
 * - a definition created or changed: every identity's state is computed from its stored
 *   events, in slices of identities (one queue message per page); a deleted definition's
 *   values are removed the same way;
 * - rolling windows: identities whose oldest counted event has left a window are
 *   recomputed on the cron's recheck schedule (the one segments use);
 * - retention: the identities of expired events are recomputed without them.
 * Each ends like a write slice: states, the profiles' `computed` fragments, and their
 * segments evaluated with the new values — through the one commit step.
 *
 * Host slice: `config` (definitions, segments), `store` (pages, members, events, facts).
 */
import { fromEvents, profileComputed, recheckAtOf, sinceOf, typesOf, type ComputedDef, type IdentityStates } from "../../computed/aggregate";
import { computedProgressStatement, dueComputedRechecks, identityEventsRead, identityPage, membersRead, statesWriteStatements, type MemberRow } from "../../db/queries/computed";
import { fragmentDeleteStatements, fragmentWriteStatements } from "../../db/queries/ingest";
import type { WriteStatement } from "../../db/queries/reads";
import { profileFactsRead, type ProfileFacts } from "../../db/queries/segments";
import type { ComputedJob } from "../../model/jobs";
import { COMPUTED_DATASET } from "../../profiles/merge";
import { eventNeedsOf } from "../../segments/rules";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";

/** Identities per turn in the write lane. */
export const COMPUTED_SLICE = 200;
/** Identities per background job (one queue message). */
export const COMPUTED_PAGE = 2_000;

export interface ComputedRefresh {
  statements: WriteStatement[];
  /** The profiles whose identities were recomputed. */
  profileIds: string[];
  /** Their facts (what segment evaluation needs) with the new `computed` fragments in place. */
  facts: ProfileFacts;
}

/**
 * Recomputes `recompute`'s states of `identityIds` from their stored events (leaving out
 * `gone`), drops states of definitions that no longer exist, and rewrites the `computed`
 * fragment of every profile they belong to.
 */
export async function computedRefresh(host: WriterHost, identityIds: readonly number[], recompute: readonly ComputedDef[], now: number, gone?: ReadonlySet<string>): Promise<ComputedRefresh> {
  const sql = host.store.sql;
  const { computed: defs } = await host.config.current();
  const read = await host.store.read({
    members: membersRead(sql, identityIds),
    events: identityEventsRead(sql, recompute.length ? identityIds : [], typesOf(recompute), sinceOf(recompute, now)),
  });
  const eventsOf = new Map<number, { type: string; at: number; data: Record<string, unknown> | null }[]>();
  for (const e of read.events) if (!gone?.has(e.id)) eventsOf.set(e.identityId, [...(eventsOf.get(e.identityId) ?? []), e]);

  const targets = new Set(identityIds);
  const known = new Set(defs.map((d) => d.id));
  const stateRows: [number, IdentityStates, number | null][] = [];
  for (const m of read.members) {
    if (!targets.has(m.id)) continue;
    const states: IdentityStates = Object.fromEntries(Object.entries(m.states).filter(([id]) => known.has(id)));
    for (const def of recompute) {
      const state = fromEvents(def, eventsOf.get(m.id) ?? [], now);
      if (state) states[def.id] = state;
      else delete states[def.id];
    }
    // Written even when equal: the row's recheck time may be what was due.
    if (Object.keys(states).length === 0 && Object.keys(m.states).length === 0) continue;
    m.states = states;
    stateRows.push([m.id, states, recheckAtOf(defs, states)]);
  }

  const byProfile = new Map<string, MemberRow[]>();
  for (const m of read.members) byProfile.set(m.profileId, [...(byProfile.get(m.profileId) ?? []), m]);
  const profileIds = [...byProfile.keys()];
  const { segments } = await host.config.current();
  const needs = eventNeedsOf(segments.map((s) => s.rule), now);
  const { facts } = await host.store.read({ facts: profileFactsRead(sql, profileIds, needs.types.length ? needs : undefined) });
  const primaryOf = new Map(facts.primaries.map((p) => [p.profileId, `${p.namespace}\u0000${p.value}`]));
  const holding = new Set(facts.fragments.filter((f) => f.dataset === COMPUTED_DATASET).map((f) => `${f.namespace}\u0000${f.value}`));

  const writes: [string, number, Record<string, unknown>, number, Record<string, unknown>][] = [];
  const deletes: [number, string][] = [];
  const placed = new Map<string, { namespace: string; value: string; attributes: string } | undefined>();
  for (const [profileId, members] of byProfile) {
    const wanted = profileComputed(defs, members.map((m) => m.states));
    const holder = members.find((m) => `${m.namespace}\u0000${m.value}` === primaryOf.get(profileId));
    for (const m of members) {
      if (wanted && m === holder) writes.push([COMPUTED_DATASET, m.id, wanted.attributes, now, wanted.meta]);
      else if (holding.has(`${m.namespace}\u0000${m.value}`)) deletes.push([m.id, COMPUTED_DATASET]);
    }
    placed.set(profileId, wanted && holder ? { namespace: holder.namespace, value: holder.value, attributes: JSON.stringify(wanted.attributes) } : undefined);
  }

  return {
    statements: [...statesWriteStatements(sql, stateRows), ...fragmentDeleteStatements(sql, deletes), ...fragmentWriteStatements(sql, writes)],
    profileIds,
    facts: {
      ...facts,
      fragments: [
        ...facts.fragments.filter((x) => !(x.dataset === COMPUTED_DATASET && placed.has(x.profileId))),
        ...[...placed].flatMap(([profileId, p]) => (p ? [{ profileId, namespace: p.namespace, value: p.value, dataset: COMPUTED_DATASET, attributes: p.attributes, updatedAt: now }] : [])),
      ],
    },
  };
}

/** A refresh as a slice: its writes, and the segments of its profiles evaluated with the new values. */
async function refreshSlice(host: WriterHost, refresh: ComputedRefresh, now: number, trailing: WriteStatement[] = []): Promise<SliceResult> {
  const { segments } = await host.config.current();
  return { statements: refresh.statements, activation: [], evaluate: { profileIds: refresh.profileIds, segments, facts: refresh.facts, now }, trailing };
}

/**
 * One slice of a definition's background computation: the job as it stands after, or
 * undefined when the job is stale (the definition changed since; a newer job runs). A
 * deleted definition's job removes its values.
 */
export async function computedSlice(host: WriterHost, job: ComputedJob, now: number): Promise<{ job: ComputedJob; done: boolean; slice: SliceResult } | undefined> {
  let def = (await host.config.current()).computed.find((d) => d.id === job.attributeId);
  if (!def || def.version < job.version) {
    host.config.invalidate(); // the job may be newer than what the writer holds
    def = (await host.config.current()).computed.find((d) => d.id === job.attributeId);
  }
  if (def && def.version !== job.version) return undefined;
  const ids = await identityPage(host.store.sql, job.after, COMPUTED_SLICE);
  const refresh = await computedRefresh(host, ids, def ? [def] : [], now);
  const computed = job.computed + ids.length;
  const done = ids.length < COMPUTED_SLICE;
  const after = ids.at(-1) ?? job.after;
  const trailing = def ? [computedProgressStatement(host.store.sql, def.id, def.version, computed, done, after)] : [];
  return { job: { ...job, after, computed }, done, slice: await refreshSlice(host, refresh, now, trailing) };
}

/** Identities whose rolling windows have an event to drop (undefined when none is due). */
export async function computedRecheckSlice(host: WriterHost, now: number, limit = COMPUTED_SLICE): Promise<{ count: number; slice: SliceResult } | undefined> {
  const windowed = (await host.config.current()).computed.filter((d) => d.withinMs !== undefined);
  const ids = await dueComputedRechecks(host.store.sql, now, limit);
  if (ids.length === 0) return undefined;
  const refresh = await computedRefresh(host, ids, windowed, now);
  return { count: ids.length, slice: await refreshSlice(host, refresh, now) };
}

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
import { identityKey } from "../../../shared/identity/normalize";
import { COMPUTED_DATASET } from "../../../shared/schemas/computed";
import { fromEvents, sinceOf, typesOf } from "../../computed/aggregate";
import { placement, sameFragment } from "../../computed/profiles";
import {
  computedProgressStatement,
  dueComputedRechecks,
  identityEventsRead,
  identityPage,
  type MemberRow,
  membersRead,
  recheckWriteStatements,
} from "../../db/queries/computed";
import { fragmentDeleteStatements, fragmentWriteStatements } from "../../db/queries/ingest";
import type { WriteStatement } from "../../db/queries/reads";
import { type ProfileFacts, profileFactsRead } from "../../db/queries/segments";
import type { ComputedDef, IdentityStates } from "../../model/computed";
import { type ComputedJob, nextShard } from "../../model/jobs";
import { eventNeedsOf } from "../../segments/rules";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";

/** Identities per turn in the write lane: a slice holds ingestion for a few milliseconds only. */
export const COMPUTED_SLICE = 50;
/** Identities per background job (one queue message). */
export const COMPUTED_PAGE = 1_000;

interface ComputedRefresh {
  statements: WriteStatement[];
  /** The profiles whose identities were recomputed. */
  profileIds: string[];
  /** Their facts (what segment evaluation needs) with the new `computed` fragments in place. */
  facts: ProfileFacts;
}

/**
 * Recomputes `recompute`'s states of `identityIds` from their stored events (leaving out
 * `gone`), drops states of definitions that no longer exist, and re-places the `computed`
 * fragments of every profile they belong to.
 */
export async function computedRefresh(
  host: WriterHost,
  identityIds: readonly number[],
  recompute: readonly ComputedDef[],
  now: number,
  gone?: ReadonlySet<string>,
): Promise<ComputedRefresh> {
  const sql = host.store.sql;
  const { computed: defs, segments } = await host.config.current();
  const read = await host.store.read({
    members: membersRead(sql, identityIds),
    events: identityEventsRead(
      sql,
      recompute.length ? identityIds : [],
      typesOf(recompute),
      sinceOf(recompute, now),
    ),
  });
  const eventsOf = new Map<
    number,
    { type: string; at: number; data: Record<string, unknown> | null }[]
  >();
  for (const e of read.events)
    if (!gone?.has(e.id)) eventsOf.set(e.identityId, [...(eventsOf.get(e.identityId) ?? []), e]);

  const targets = new Set(identityIds);
  const byProfile = new Map<string, { member: MemberRow; states: IdentityStates }[]>();
  for (const m of read.members) {
    const states: IdentityStates = { ...(m.computed?.meta?.s ?? {}) };
    if (targets.has(m.id)) {
      for (const def of recompute) {
        const state = fromEvents(def, eventsOf.get(m.id) ?? [], now);
        if (state) states[def.id] = state;
        else delete states[def.id];
      }
    }
    byProfile.set(m.profileId, [...(byProfile.get(m.profileId) ?? []), { member: m, states }]);
  }

  const profileIds = [...byProfile.keys()];
  const needs = eventNeedsOf(
    segments.map((s) => s.rule),
    now,
  );
  const { facts } = await host.store.read({
    facts: profileFactsRead(sql, profileIds, needs.types.length ? needs : undefined),
  });
  const primaryOf = new Map(facts.primaries.map((p) => [p.profileId, keyOf(p)]));

  const writes: [string, number, Record<string, unknown>, number, Record<string, unknown>][] = [];
  const deletes: [number, string][] = [];
  const rechecks: [number, number | null][] = [];
  const placed: ProfileFacts["fragments"] = [];
  for (const [profileId, members] of byProfile) {
    const wanted = placement(
      defs,
      members.map((m) => ({ key: keyOf(m.member), states: m.states })),
      primaryOf.get(profileId),
    );
    for (const { member } of members) {
      const fragment = wanted.get(keyOf(member));
      if (fragment)
        placed.push({
          profileId,
          namespace: member.namespace,
          value: member.value,
          dataset: COMPUTED_DATASET,
          attributes: JSON.stringify(fragment.attributes),
          updatedAt: now,
        });
      if (sameFragment(fragment, member.computed)) continue;
      if (fragment)
        writes.push([
          COMPUTED_DATASET,
          member.id,
          fragment.attributes,
          now,
          fragment.meta as Record<string, unknown>,
        ]);
      else deletes.push([member.id, COMPUTED_DATASET]);
      if ((fragment?.meta.r ?? null) !== (member.computed?.meta?.r ?? null))
        rechecks.push([member.id, fragment?.meta.r ?? null]);
    }
  }

  return {
    statements: [
      ...fragmentDeleteStatements(sql, deletes),
      ...fragmentWriteStatements(sql, writes),
      ...recheckWriteStatements(sql, rechecks),
    ],
    profileIds,
    facts: {
      ...facts,
      fragments: [...facts.fragments.filter((x) => x.dataset !== COMPUTED_DATASET), ...placed],
    },
  };
}

const keyOf = (i: { namespace: string; value: string }) => identityKey(i.namespace, i.value);

/** A refresh as a slice: its writes, and the segments of its profiles evaluated with the new values. */
async function refreshSlice(
  host: WriterHost,
  refresh: ComputedRefresh,
  now: number,
  trailing: WriteStatement[] = [],
): Promise<SliceResult> {
  const { segments } = await host.config.current();
  return {
    statements: refresh.statements,
    activation: [],
    evaluate: { profileIds: refresh.profileIds, segments, facts: refresh.facts, now },
    trailing,
  };
}

/**
 * One slice of a definition's background computation: the job as it stands after, or
 * undefined when the job is stale (the definition changed since; a newer job runs). A
 * deleted definition's job removes its values.
 */
export async function computedSlice(
  host: WriterHost,
  job: ComputedJob,
  now: number,
): Promise<{ job: ComputedJob; done: boolean; slice: SliceResult } | undefined> {
  let def = (await host.config.current()).computed.find((d) => d.id === job.attributeId);
  if (!def || def.version < job.version) {
    host.config.invalidate(); // the job may be newer than what the writer holds
    def = (await host.config.current()).computed.find((d) => d.id === job.attributeId);
  }
  if (def && def.version !== job.version) return undefined;
  const ids = await identityPage(host.store.sql, job.after, COMPUTED_SLICE);
  const refresh = await computedRefresh(host, ids, def ? [def] : [], now);
  const computed = job.computed + ids.length;
  const walk = ids.length < COMPUTED_SLICE ? nextShard(job.walk) : job.walk;
  const done = ids.length < COMPUTED_SLICE && !walk;
  const after = walk !== job.walk ? 0 : (ids.at(-1) ?? job.after); // the next shard starts from its beginning
  const trailing = def
    ? [computedProgressStatement(host.store.sql, def.id, def.version, computed, done, after)]
    : [];
  return {
    job: { ...job, after, computed, ...(walk ? { walk } : {}) },
    done,
    slice: await refreshSlice(host, refresh, now, trailing),
  };
}

/** Identities whose rolling windows have an event to drop (undefined when none is due). */
export async function computedRecheckSlice(
  host: WriterHost,
  now: number,
  limit = COMPUTED_SLICE,
): Promise<{ count: number; slice: SliceResult } | undefined> {
  const windowed = (await host.config.current()).computed.filter((d) => d.withinMs !== undefined);
  const ids = await dueComputedRechecks(host.store.sql, now, limit);
  if (ids.length === 0) return undefined;
  const refresh = await computedRefresh(host, ids, windowed, now);
  return { count: ids.length, slice: await refreshSlice(host, refresh, now) };
}

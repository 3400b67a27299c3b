/**
 * The writer's half of retention (the run itself is `maintenance/retention.ts`): each step
 * is a background slice that removes what expired and, in the same write, records the
 * step's progress in the run — a crash can never leave events deleted but not counted.
 *
 * - Expired events: the profiles they belong to are re-evaluated for segments with event
 *   conditions *as if the events were gone* (the commit step evaluates the remaining
 *   facts), so a segment window never loses an event without the segment hearing of it;
 *   computed attributes are recomputed without them in the same write.
 * - Pseudonymous profiles: expired ones are removed with their data and links; the graph
 *   history keeps a `delete` entry.
 *
 * Host slice: `config` (segments), `store` (pages, facts, statement builders), `ids` (history ids).
 */
import { identityKey } from "../../../shared/identity/normalize";
import { identitiesOfEvents } from "../../db/queries/computed";
import type { WriteStatement } from "../../db/queries/reads";
import {
  countEvents,
  deleteEventsStatements,
  expireProfilesStatements,
  historyInsertStatements,
  identitiesOfProfiles,
  maintenanceProgressStatement,
  profilesOfEvents,
  pseudonymousPage,
} from "../../db/queries/retention";
import type { ProfileFacts, SegmentDef } from "../../db/queries/segments";
import { afterProfilesPage, PROFILE_SLICE } from "../../maintenance/steps";
import type { StepProgress } from "../../model/jobs";
import { factsRead } from "../../segments/evaluate";
import { eventNeeds } from "../../segments/rules";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";
import { computedRefresh } from "./computed";

/** The UPDATE that records a step, last in the slice's write; it never moves a run backwards. */
function progressStatement(
  host: WriterHost,
  progress: StepProgress,
  removed: { events?: number; profiles?: number },
  now: number,
): WriteStatement {
  return maintenanceProgressStatement(host.store.sql, progress.runId, progress.cursor.step, {
    cursor: JSON.stringify(progress.cursor),
    eventsExpired: progress.counts.eventsExpired + (removed.events ?? 0),
    eventsArchived: progress.counts.eventsArchived,
    profilesExpired: progress.counts.profilesExpired + (removed.profiles ?? 0),
    parts: JSON.stringify(progress.parts),
    now,
  });
}

export async function expireEventsSlice(
  host: WriterHost,
  eventIds: readonly string[],
  now: number,
  /** Undefined: another writer records the step (with several shards, the last one does). */
  progress: StepProgress | undefined,
): Promise<{ deleted: number; slice?: SliceResult }> {
  if (eventIds.length === 0) return { deleted: 0 };
  const sql = host.store.sql;
  const config = await host.config.current();
  const gone = new Set(eventIds);
  let evaluation: { profileIds: string[]; segments: SegmentDef[]; facts: ProfileFacts };
  let recomputed: WriteStatement[] = [];
  if (config.computed.length > 0) {
    // Computed values lose the expired events' share: their identities are recomputed
    // without them, and every segment of those profiles sees the new values.
    const refresh = await computedRefresh(
      host,
      await identitiesOfEvents(sql, eventIds),
      config.computed,
      now,
      gone,
    );
    recomputed = refresh.statements;
    evaluation = {
      profileIds: refresh.profileIds,
      segments: config.segments,
      facts: refresh.facts,
    };
  } else {
    const segments = config.segments.filter((s) => eventNeeds(s.rule).any);
    const profileIds = segments.length ? await profilesOfEvents(sql, eventIds) : [];
    const { facts } = await host.store.read({ facts: factsRead(sql, profileIds, segments, now) });
    evaluation = { profileIds, segments, facts };
  }
  const remaining = {
    ...evaluation.facts,
    events: evaluation.facts.events.filter((e) => !gone.has(e.id)),
  };
  // D1 counts the rollup triggers' rows in `changes`: count the events themselves before.
  const deleted = await countEvents(sql, eventIds);
  return {
    deleted,
    slice: {
      statements: [...recomputed, ...deleteEventsStatements(sql, eventIds)],
      activation: [],
      evaluate: {
        profileIds: evaluation.profileIds,
        segments: evaluation.segments,
        facts: remaining,
        now,
      },
      trailing: progress
        ? [progressStatement(host, progress, { events: deleted }, Date.now())]
        : [],
    },
  };
}

export async function expireProfilesSlice(
  host: WriterHost,
  cutoff: number,
  after: string,
  now: number,
  progress: StepProgress,
): Promise<{ checked: number; expired: number; after: string; slice: SliceResult }> {
  const sql = host.store.sql;
  const page = await pseudonymousPage(sql, after, cutoff, PROFILE_SLICE);
  const expired = page.filter((p) => p.expired).map((p) => p.id);
  const last = page.at(-1)?.id ?? after;
  const recorded = {
    ...progress,
    cursor: afterProfilesPage(progress.cursor, { checked: page.length, after: last }),
  };
  const outcome = { checked: page.length, expired: expired.length, after: last };
  if (expired.length === 0)
    return {
      ...outcome,
      slice: {
        statements: [],
        activation: [],
        trailing: [progressStatement(host, recorded, {}, Date.now())],
      },
    };

  const identities = await identitiesOfProfiles(sql, expired);
  await host.ids.ensure();
  const first = host.ids.history(expired.length);
  const keys = new Map<string, string[]>();
  for (const i of identities)
    keys.set(i.profile_id, [...(keys.get(i.profile_id) ?? []), identityKey(i.namespace, i.value)]);
  const history = expired.map((p, n) => [
    first + n,
    now,
    "delete",
    "retention",
    JSON.stringify((keys.get(p) ?? []).sort()),
    JSON.stringify([p]),
  ]);
  const statements = [
    ...expireProfilesStatements(
      sql,
      expired,
      identities.map((i) => i.id),
    ),
    ...historyInsertStatements(
      sql,
      history,
      expired.map((p, n) => [first + n, p]),
    ),
  ];
  return {
    ...outcome,
    slice: {
      statements,
      activation: [],
      trailing: [progressStatement(host, recorded, { profiles: expired.length }, Date.now())],
    },
  };
}

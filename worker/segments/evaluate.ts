/**
 * Evaluates segments for profiles and decides the membership changes: realized → since
 * now; no longer matching → exited since now; otherwise only the recheck time may move.
 * Runs inside the GraphWriter, so it never races an ingest writing the same profiles.
 * `nextMembership` is the one transition rule; the write lane applies it in memory after
 * each change, background work applies it to facts read from the store.
 */

import type { ConsentSettings } from "../../shared/schemas/consent";
import { consentByProfile, DEFAULT_CONSENT } from "../consent/merge";
import type { Read } from "../db/queries/reads";
import {
  membershipWriteStatements,
  type ProfileFacts,
  profileFactsRead,
  type SegmentDef,
} from "../db/queries/segments";
import { DEFAULT_POLICY, type FragmentInput, mergeFragments } from "../profiles/merge";
import type { ActivationFact, ProfileView } from "../webhooks/outbox";
import { evaluate, eventNeedsOf, type RuleEvent, type Subject } from "./rules";

export interface MembershipState {
  status: string;
  since: number;
  recheckAt: number | null;
}

/** The membership after evaluating `rule` for `subject`; undefined when nothing changes. */
export function nextMembership(
  segment: SegmentDef,
  subject: Subject,
  was: MembershipState | undefined,
  now: number,
): MembershipState | undefined {
  const { match, recheckAt } = evaluate(segment.rule, subject, now);
  const recheck = recheckAt ?? null;
  if (match && was?.status !== "realized")
    return { status: "realized", since: now, recheckAt: recheck };
  if (!match && was?.status === "realized")
    return { status: "exited", since: now, recheckAt: recheck };
  if (was && was.recheckAt !== recheck) return { ...was, recheckAt: recheck };
  return undefined;
}

/** Rows for membershipWriteStatements. */
export const membershipRow = (segmentId: string, profileId: string, m: MembershipState) => [
  segmentId,
  profileId,
  m.status,
  m.since,
  m.recheckAt,
];

interface EvaluationResult {
  statements: D1PreparedStatement[];
  realized: number;
  exited: number;
  /** Entries and exits, for webhook destinations. */
  transitions: ActivationFact[];
  /** What a delivery says of each evaluated profile. */
  views: Map<string, ProfileView>;
}

/** What evaluating `segments` for `profileIds` needs from D1 (nothing when there is nothing to do). */
export function factsRead(
  d1: D1Database,
  profileIds: readonly string[],
  segments: readonly SegmentDef[],
  now: number,
): Read<ProfileFacts> {
  const needs = eventNeedsOf(
    segments.map((s) => s.rule),
    now,
  );
  return profileFactsRead(
    d1,
    segments.length === 0 ? [] : profileIds,
    needs.types.length ? needs : undefined,
  );
}

/** What a rule is evaluated against for each of `profileIds`, and its primary identity, from its facts. */
export function subjectsFromFacts(
  profileIds: readonly string[],
  facts: ProfileFacts,
  consent: ConsentSettings = DEFAULT_CONSENT,
): Map<string, { subject: Subject; primaryIdentity?: { namespace: string; id: string } }> {
  const fragments = new Map<string, FragmentInput[]>();
  for (const f of facts.fragments) {
    if (!fragments.has(f.profileId)) fragments.set(f.profileId, []);
    fragments.get(f.profileId)!.push({
      dataset: f.dataset,
      namespace: f.namespace,
      value: f.value,
      attributes: JSON.parse(f.attributes),
      updatedAt: f.updatedAt,
    });
  }
  const events = new Map<string, RuleEvent[]>();
  for (const e of facts.events) {
    if (!events.has(e.profileId)) events.set(e.profileId, []);
    events
      .get(e.profileId)!
      .push({ type: e.type, at: e.at, data: e.data ? JSON.parse(e.data) : null });
  }
  const consentOf = consentByProfile(consent, facts.choices);
  const primaries = new Map(
    facts.primaries.map((p) => [p.profileId, { namespace: p.namespace, id: p.value }]),
  );
  const out = new Map<
    string,
    { subject: Subject; primaryIdentity?: { namespace: string; id: string } }
  >();
  for (const profileId of profileIds) {
    const subject = {
      attributes: mergeFragments(fragments.get(profileId) ?? [], DEFAULT_POLICY).attributes,
      events: events.get(profileId) ?? [],
      consent: consentOf(profileId),
    };
    out.set(profileId, { subject, primaryIdentity: primaries.get(profileId) });
  }
  return out;
}

/** The membership writes for `profileIds` given their facts. */
export function evaluateFacts(
  d1: D1Database,
  profileIds: readonly string[],
  segments: readonly SegmentDef[],
  facts: ProfileFacts,
  now: number,
  consent: ConsentSettings = DEFAULT_CONSENT,
): EvaluationResult {
  if (profileIds.length === 0 || segments.length === 0)
    return { statements: [], realized: 0, exited: 0, transitions: [], views: new Map() };
  const subjects = subjectsFromFacts(profileIds, facts, consent);
  const current = new Map(facts.memberships.map((m) => [`${m.segmentId}\u0000${m.profileId}`, m]));
  const writes: unknown[][] = [];
  const transitions: ActivationFact[] = [];
  const views = new Map<string, ProfileView>();
  let realized = 0;
  let exited = 0;
  for (const [profileId, { subject, primaryIdentity }] of subjects) {
    views.set(profileId, {
      primaryIdentity,
      attributes: subject.attributes,
      consent: subject.consent,
    });
    for (const segment of segments) {
      const was = current.get(`${segment.id}\u0000${profileId}`);
      const next = nextMembership(segment, subject, was, now);
      if (!next) continue;
      writes.push(membershipRow(segment.id, profileId, next));
      if (next.status === was?.status) continue;
      if (next.status === "realized") realized++;
      if (next.status === "exited") exited++;
      transitions.push({
        type: next.status === "realized" ? "segment.entered" : "segment.exited",
        profileId,
        at: now,
        segmentId: segment.id,
      });
    }
  }
  return {
    statements: membershipWriteStatements(d1, writes),
    realized,
    exited,
    transitions,
    views,
  };
}

/**
 * Evaluates segments for a set of profiles against what D1 holds, and returns the
 * membership writes: realized → since now; no longer matching → exited since now.
 * Runs inside the GraphWriter, so it never races an ingest writing the same profiles.
 * The facts come from `factsRead`, which the write lane appends to its write batch (the
 * reads then see the writes, in the same round trip).
 */
import { readTogether, type Read } from "../db/queries/reads";
import { membershipWriteStatements, profileFactsRead, recheckUpdateStatements, type ProfileFacts, type SegmentDef } from "../db/queries/segments";
import { DEFAULT_POLICY, mergeFragments, type FragmentInput } from "../profiles/merge";
import { evaluate, eventNeedsOf, type RuleEvent } from "./rules";

export interface EvaluationResult {
  statements: D1PreparedStatement[];
  realized: number;
  exited: number;
}

/** What evaluating `segments` for `profileIds` needs from D1 (nothing when there is nothing to do). */
export function factsRead(d1: D1Database, profileIds: readonly string[], segments: readonly SegmentDef[], now: number): Read<ProfileFacts> {
  const needs = eventNeedsOf(segments.map((s) => s.rule), now);
  return profileFactsRead(d1, segments.length === 0 ? [] : profileIds, needs.types.length ? needs : undefined);
}

export async function evaluateSegments(
  d1: D1Database,
  profileIds: readonly string[],
  segments: readonly SegmentDef[],
  now: number,
): Promise<EvaluationResult> {
  const { facts } = await readTogether(d1, { facts: factsRead(d1, profileIds, segments, now) });
  return evaluateFacts(d1, profileIds, segments, facts, now);
}

/** The membership writes for `profileIds` given their facts. */
export function evaluateFacts(
  d1: D1Database,
  profileIds: readonly string[],
  segments: readonly SegmentDef[],
  facts: ProfileFacts,
  now: number,
): EvaluationResult {
  if (profileIds.length === 0 || segments.length === 0) return { statements: [], realized: 0, exited: 0 };

  const fragments = new Map<string, FragmentInput[]>();
  for (const f of facts.fragments) {
    if (!fragments.has(f.profileId)) fragments.set(f.profileId, []);
    fragments.get(f.profileId)!.push({ dataset: f.dataset, namespace: f.namespace, value: f.value, attributes: JSON.parse(f.attributes), updatedAt: f.updatedAt });
  }
  const events = new Map<string, RuleEvent[]>();
  for (const e of facts.events) {
    if (!events.has(e.profileId)) events.set(e.profileId, []);
    events.get(e.profileId)!.push({ type: e.type, at: e.at, data: e.data ? JSON.parse(e.data) : null });
  }
  const current = new Map(facts.memberships.map((m) => [`${m.segmentId}\u0000${m.profileId}`, m]));

  const writes: unknown[][] = [];
  const recheckOnly: unknown[][] = [];
  let realized = 0;
  let exited = 0;
  for (const profileId of profileIds) {
    const attributes = mergeFragments(fragments.get(profileId) ?? [], DEFAULT_POLICY).attributes;
    const subject = { attributes, events: events.get(profileId) ?? [] };
    for (const segment of segments) {
      const { match, recheckAt } = evaluate(segment.rule, subject, now);
      const was = current.get(`${segment.id}\u0000${profileId}`);
      const recheck = recheckAt ?? null;
      if (match && was?.status !== "realized") {
        writes.push([segment.id, profileId, "realized", now, recheck]);
        realized++;
      } else if (!match && was?.status === "realized") {
        writes.push([segment.id, profileId, "exited", now, recheck]);
        exited++;
      } else if (was && was.recheckAt !== recheck) {
        recheckOnly.push([segment.id, profileId, recheck]);
      }
    }
  }
  return { statements: [...membershipWriteStatements(d1, writes), ...recheckUpdateStatements(d1, recheckOnly)], realized, exited };
}

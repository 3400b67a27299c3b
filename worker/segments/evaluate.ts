/**
 * Evaluates segments for a set of profiles against what D1 holds, and returns the
 * membership writes: realized → since now; no longer matching → exited since now.
 * Runs inside the GraphWriter, so it never races an ingest writing the same profiles.
 */
import { loadProfileFacts, membershipWriteStatements, recheckUpdateStatements, type SegmentDef } from "../db/queries/segments";
import { DEFAULT_POLICY, mergeFragments, type FragmentInput } from "../profiles/merge";
import { evaluate, eventNeedsOf, type RuleEvent } from "./rules";

export interface EvaluationResult {
  statements: D1PreparedStatement[];
  realized: number;
  exited: number;
}

export async function evaluateSegments(
  d1: D1Database,
  profileIds: readonly string[],
  segments: readonly SegmentDef[],
  now: number,
): Promise<EvaluationResult> {
  if (profileIds.length === 0 || segments.length === 0) return { statements: [], realized: 0, exited: 0 };
  const needs = eventNeedsOf(segments.map((s) => s.rule), now);
  const facts = await loadProfileFacts(d1, profileIds, needs.types.length ? needs : undefined);

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

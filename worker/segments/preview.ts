/**
 * A segment's size before it is saved: the rule evaluated over a sample of profiles read
 * from the D1 projection, scaled to all profiles. Profile ids are random (v2 ids start with
 * the hash bucket of their anchor identity; legacy ids are UUIDs), so the first profiles by
 * id are a fair sample. Up to SAMPLE profiles the answer is exact. Nothing is written.
 */
import type { ConsentSettings } from "../../shared/schemas/consent";
import type { Rule } from "../../shared/schemas/segments";
import { readTogether } from "../db/queries/reads";
import { countProfiles, profileFactsRead, profilePage } from "../db/queries/segments";
import { subjectsFromFacts } from "./evaluate";
import { evaluate, eventNeedsOf } from "./rules";

const SAMPLE = 1_000;

interface SizePreview {
  /** Profiles that would be in the segment: exact, or estimated from the sample. */
  size: number;
  exact: boolean;
  /** Profiles evaluated, and how many of them match. */
  sampled: number;
  matched: number;
  totalProfiles: number;
}

export async function previewSegmentSize(
  d1: D1Database,
  rule: Rule,
  consent: ConsentSettings,
  now: number,
): Promise<SizePreview> {
  const [totalProfiles, ids] = await Promise.all([countProfiles(d1), profilePage(d1, "", SAMPLE)]);
  const needs = eventNeedsOf([rule], now);
  const { facts } = await readTogether(d1, {
    facts: profileFactsRead(d1, ids, needs.types.length ? needs : undefined),
  });
  let matched = 0;
  for (const { subject } of subjectsFromFacts(ids, facts, consent).values())
    if (evaluate(rule, subject, now).match) matched++;
  // Profiles may be created between the two reads: the total is at least the sample.
  const total = Math.max(totalProfiles, ids.length);
  const exact = ids.length === total;
  return {
    size: exact ? matched : Math.round((matched / Math.max(ids.length, 1)) * total),
    exact,
    sampled: ids.length,
    matched,
    totalProfiles: total,
  };
}

/**
 * What a change does to identity graphs (SPEC §9's effect shape), as plain logic: the
 * merges, splits, moves and evictions rule 3 made, the segment entries and exits they
 * caused, and a before/after sample a person can read. Built from the graph history the
 * workspace recorded and the activation facts the working set collected.
 */
import type { HistoryEntry } from "../model/graph";

export interface GraphEffect {
  profilesAffected: number;
  /** Existing profiles (graphs) the change alters. */
  graphsChanged: number;
  merges: { into: string; profiles: string[]; identities: string[] }[];
  splits: { from: string; into: string; identities: string[] }[];
  moves: { from: string; to: string; identities: string[] }[];
  evictions: { from: string; into: string; identities: string[] }[];
  segmentChanges: { profileId: string; segment: string; from: string; to: string }[];
  sample: {
    before: { profileId: string; identities: string[] };
    after: { profileId?: string; identities: string[] }[];
  }[];
  truncated: boolean;
}

/** A segment entry or exit (the activation facts the working set recorded). */
interface SegmentChange {
  type: string;
  profileId: string;
  segmentId?: string;
}

/**
 * The effect of one change. `before` and `after` are the profiles' members (identity keys)
 * as loaded and as left; the sample shows up to `sampleSize` profiles that existed before.
 */
export function graphEffect(
  history: readonly HistoryEntry[],
  changes: readonly SegmentChange[],
  before: ReadonlyMap<string, readonly string[]>,
  after: ReadonlyMap<string, readonly string[]>,
  sampleSize = 10,
): GraphEffect {
  const effect: GraphEffect = {
    profilesAffected: 0,
    graphsChanged: 0,
    merges: [],
    splits: [],
    moves: [],
    evictions: [],
    segmentChanges: [],
    sample: [],
    truncated: false,
  };
  const affected = new Set<string>();
  for (const h of history) {
    const [first, ...rest] = h.profiles;
    if (!first) continue;
    h.profiles.forEach((p) => affected.add(p));
    if (h.kind === "merge")
      effect.merges.push({ into: first, profiles: rest, identities: h.identities });
    else if (h.kind === "split")
      effect.splits.push({ from: first, into: rest[0]!, identities: h.identities });
    else if (h.kind === "evict")
      effect.evictions.push({ from: first, into: rest[0]!, identities: h.identities });
    else if (h.kind === "move")
      effect.moves.push({ from: first, to: rest[0]!, identities: h.identities });
  }
  for (const c of changes) {
    if ((c.type !== "segment.entered" && c.type !== "segment.exited") || !c.segmentId) continue;
    affected.add(c.profileId);
    effect.segmentChanges.push({
      profileId: c.profileId,
      segment: c.segmentId,
      ...(c.type === "segment.entered"
        ? { from: "out", to: "realized" }
        : { from: "realized", to: "exited" }),
    });
  }
  effect.profilesAffected = affected.size;
  const existing = [...affected].filter((p) => before.has(p));
  effect.graphsChanged = existing.length;
  const owner = new Map<string, string>();
  for (const [profileId, keys] of after) for (const key of keys) owner.set(key, profileId);
  for (const profileId of existing.slice(0, sampleSize)) {
    const identities = [...before.get(profileId)!].sort();
    const parts = new Map<string | undefined, string[]>();
    for (const key of identities)
      parts.set(owner.get(key), [...(parts.get(owner.get(key)) ?? []), key]);
    effect.sample.push({
      before: { profileId, identities },
      after: [...parts].map(([p, keys]) => ({
        ...(p ? { profileId: p } : {}),
        identities: [...(after.get(p ?? "") ?? keys)].sort(),
      })),
    });
  }
  return effect;
}

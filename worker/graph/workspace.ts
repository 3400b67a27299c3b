/**
 * The identity graph engine (SPEC §1 "Identity graph rules"), as plain in-memory logic.
 *
 * A `GraphWorkspace` holds the part of the graph one call touches — complete profiles,
 * their identities and the links among them — applies observations and deletes to it one
 * at a time, and remembers what changed so the store can write it back in one batch.
 * Nothing here knows about D1 or HTTP; the property tests drive it directly.
 *
 * Rule 3 in code: when an operation touches graphs, all links among their identities are
 * taken in rank order (priority of the link's lower-priority end, higher first; then
 * lastSeen, newer first; then the identity keys, for a stable tie-break) and added
 * Kruskal-style. A link that would join two parts into one that breaks a cap
 * (maxIdentities, or a namespace's maxPerGraph — 1 when unique) is kept but not applied.
 * The applied links' connected parts are the new graphs.
 */

import { identityKey } from "../../shared/identity/normalize";
import type {
  GraphCause,
  GraphChangeset,
  HistoryEntry,
  IdentityRef,
  IdentityState,
  LinkState,
} from "../model/graph";

export interface NamespaceGraphRules {
  priority: number;
  /** Identities of this namespace one graph may hold (1 for unique; Infinity for no cap). */
  cap: number;
}

export interface GraphRules {
  maxIdentities: number;
  namespaces: ReadonlyMap<string, NamespaceGraphRules>;
  /**
   * Identity keys no link may join (a value blocked after it was stored). Only a preview or
   * an apply of a configuration change sets it: ingest never sees a blocked value.
   */
  isolated?: ReadonlySet<string>;
}

/**
 * The identity an item is anchored on: highest namespace priority, then the smallest key.
 * Ingest links an item's identities to it (a star) and files its event under it.
 */
export function highestPriority<T extends IdentityRef & { key?: string }>(
  identities: readonly T[],
  rules: GraphRules,
): T & { key: string } {
  const keyOf = (i: T) => i.key ?? identityKey(i.namespace, i.value);
  const priority = (i: T) => rules.namespaces.get(i.namespace)?.priority ?? 0;
  const best = [...identities].sort(
    (x, y) => priority(y) - priority(x) || (keyOf(x) < keyOf(y) ? -1 : 1),
  )[0]!;
  return { ...best, key: keyOf(best) };
}

/**
 * An identity's `lastSeen` moves in steps of at least an hour: a device seen on every page
 * view would otherwise rewrite its row (a billed row write) each time. What reads it — the
 * retention of idle pseudonymous profiles (days), exports of the identity map — needs no
 * more. Links keep exact times: rule 3 ranks by them.
 */
const IDENTITY_SEEN_STEP_MS = 60 * 60 * 1000;

export function linkKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}

export class GraphWorkspace {
  readonly identities = new Map<string, IdentityState>();
  readonly links = new Map<string, LinkState>();
  /** profileId → identity keys, for every profile loaded into the workspace. */
  readonly members = new Map<string, Set<string>>();
  readonly history: HistoryEntry[] = [];

  /** Changes to write back. */
  readonly dirtyIdentities = new Set<string>();
  readonly dirtyLinks = new Set<string>();
  readonly deletedIdentities = new Map<string, IdentityState>();
  readonly deletedLinks = new Map<string, LinkState>();
  /** Profiles whose membership changed; those no longer in `members` were retired. */
  readonly changedProfiles = new Set<string>();
  /** The same, since the last `takeRecentChanges()`. */
  private readonly recentChanges = new Set<string>();

  private readonly adjacency = new Map<string, Set<string>>();

  constructor(
    readonly rules: GraphRules,
    /**
     * A new profile's id, given its anchor identity's key and, for a part split off a
     * profile, that profile's id (ids carry their home bucket; a split stays in its bucket).
     */
    private readonly newProfileId: (anchorKey: string, splitFrom?: string) => string,
  ) {}

  // ---- loading -------------------------------------------------------------------

  /** Adds stored state. Profiles must be loaded whole (every identity of the profile). */
  load(identities: Iterable<IdentityState>, links: Iterable<LinkState>): void {
    for (const identity of identities) {
      if (this.identities.has(identity.key)) continue;
      this.identities.set(identity.key, { ...identity });
      this.memberSet(identity.profileId).add(identity.key);
    }
    for (const link of links) {
      const key = linkKey(link.a, link.b);
      if (this.links.has(key) || !this.identities.has(link.a) || !this.identities.has(link.b))
        continue;
      this.links.set(key, { ...link });
      this.adjacent(link.a).add(key);
      this.adjacent(link.b).add(key);
    }
  }

  profileOf(key: string): string | undefined {
    return this.identities.get(key)?.profileId;
  }

  /**
   * The changes so far. `alsoTouched` profiles are written as live profiles too (their
   * `updated_at` moves) when they still exist, e.g. those that got a record or an event.
   */
  changeset(alsoTouched: Iterable<string> = []): GraphChangeset {
    const live = new Set<string>();
    const retired: string[] = [];
    for (const p of [...this.changedProfiles, ...alsoTouched]) {
      if (this.members.has(p)) live.add(p);
      else if (this.changedProfiles.has(p)) retired.push(p);
    }
    return {
      identities: [...this.dirtyIdentities].map((k) => ({ ...this.identities.get(k)! })),
      deletedIdentities: [...this.deletedIdentities.values()].map((i) => ({ ...i })),
      links: [...this.dirtyLinks].map((k) => ({ ...this.links.get(k)! })),
      deletedLinks: [...this.deletedLinks.values()].map((l) => ({ ...l })),
      profiles: [...live].map((id) => ({
        id,
        primary: { ...this.primaryIdentity(id)! },
        identityCount: this.members.get(id)!.size,
        namespaces: this.namespacesOf(id),
      })),
      retiredProfiles: [...new Set(retired)],
      history: this.history.map((h) => ({ ...h })),
    };
  }

  /** The namespaces of a profile's identities, sorted and comma-separated. */
  private namespacesOf(profileId: string): string {
    return [
      ...new Set(
        [...this.members.get(profileId)!].map((key) => this.identities.get(key)!.namespace),
      ),
    ]
      .sort()
      .join(",");
  }

  /** Profiles whose membership changed since the last call of this (live or retired). */
  takeRecentChanges(): string[] {
    const changed = [...this.recentChanges];
    this.recentChanges.clear();
    return changed;
  }

  /** Profiles whose membership changed and that still exist. */
  changedLiveProfiles(): string[] {
    return [...this.changedProfiles].filter((p) => this.members.has(p));
  }

  /** The profile's primary identity: highest namespace priority, then oldest, then key. */
  primaryIdentity(profileId: string): IdentityState | undefined {
    const members = this.members.get(profileId);
    if (!members || members.size === 0) return undefined;
    return this.identities.get(this.bestAnchor([...members]));
  }

  // ---- operations ----------------------------------------------------------------

  /**
   * Rule 1: identities seen together in one item are linked — as a star around the
   * item's highest-priority identity. Returns the profile the item belongs to (the
   * anchor's) after rule 3 has been applied.
   */
  observe(refs: readonly IdentityRef[], dataset: string, at: number): string {
    const keys = [...new Set(refs.map((r) => identityKey(r.namespace, r.value)))];
    if (keys.length === 0) throw new Error("observe: an item needs at least one identity");
    this.fresh.identities.clear();
    this.fresh.profiles.clear();

    for (const key of keys) {
      const ref = refs.find((r) => identityKey(r.namespace, r.value) === key)!;
      const existing = this.identities.get(key);
      if (existing) {
        if (at < existing.firstSeen || at >= existing.lastSeen + IDENTITY_SEEN_STEP_MS) {
          // An older sighting can change which identity is the profile's oldest, so its
          // primary: the profile row is written again (else a group and the same calls one
          // by one could store different primaries).
          if (at < existing.firstSeen) this.markChanged(existing.profileId);
          existing.firstSeen = Math.min(existing.firstSeen, at);
          existing.lastSeen = Math.max(existing.lastSeen, at);
          this.dirtyIdentities.add(key);
        }
      } else {
        // A new identity starts as a graph of its own; resolve() may merge it.
        const profileId = this.newProfileId(key);
        this.fresh.identities.add(key);
        this.fresh.profiles.add(profileId);
        this.identities.set(key, {
          key,
          namespace: ref.namespace,
          value: ref.value,
          profileId,
          firstSeen: at,
          lastSeen: at,
        });
        this.memberSet(profileId).add(key);
        this.dirtyIdentities.add(key);
        this.markChanged(profileId);
      }
    }

    const anchor = this.bestByPriority(keys);
    for (const key of keys) {
      if (key === anchor) continue;
      this.upsertLink(anchor, key, dataset, at);
    }

    const touched = new Set<string>();
    for (const key of keys)
      for (const member of this.members.get(this.profileOf(key)!) ?? []) touched.add(member);
    this.resolve(touched, "ingest", at);
    return this.profileOf(anchor)!;
  }

  /**
   * Rule 4: removes an identity and its links, then re-applies rule 3 to what is left of
   * its graph. Returns the profile ids of the resulting parts.
   */
  deleteIdentity(key: string, at: number, cause: GraphCause = "identity.delete"): string[] {
    const identity = this.identities.get(key);
    if (!identity) return [];
    this.fresh.identities.clear();
    this.fresh.profiles.clear();
    const profileId = identity.profileId;
    const rest = new Set(this.members.get(profileId));
    rest.delete(key);

    for (const lk of [...(this.adjacency.get(key) ?? [])]) this.removeLink(lk);
    this.adjacency.delete(key);
    this.identities.delete(key);
    this.dirtyIdentities.delete(key);
    this.deletedIdentities.set(key, identity);
    this.members.get(profileId)?.delete(key);
    this.markChanged(profileId);
    this.history.push({ at, kind: "delete", cause, identities: [key], profiles: [profileId] });

    if (rest.size === 0) {
      this.members.delete(profileId);
      return [];
    }
    return this.resolve(rest, cause, at);
  }

  /**
   * Rule 3 again over everything loaded, under this workspace's rules (a configuration
   * change applied to existing graphs). Returns the profiles it changed.
   */
  reapply(at: number): string[] {
    return this.resolve(new Set(this.identities.keys()), "config", at);
  }

  /** Rule 4 for one link: removes it and re-applies rule 3 to its graph. */
  deleteLink(a: string, b: string, at: number): { found: boolean; profiles: string[] } {
    const key = linkKey(a, b);
    const link = this.links.get(key);
    if (!link) return { found: false, profiles: [] };
    this.fresh.identities.clear();
    this.fresh.profiles.clear();
    this.removeLink(key);
    const pa = this.profileOf(a)!;
    const pb = this.profileOf(b)!;
    if (pa !== pb) return { found: true, profiles: [pa, pb] };
    return {
      found: true,
      profiles: this.resolve(new Set(this.members.get(pa)), "link.delete", at),
    };
  }

  // ---- rule 3 --------------------------------------------------------------------

  private resolve(touched: Set<string>, cause: GraphCause, at: number): string[] {
    const keys = [...touched].sort();
    const parent = new Map<string, string>(keys.map((k) => [k, k]));
    const size = new Map<string, number>(keys.map((k) => [k, 1]));
    const perNs = new Map<string, Map<string, number>>(
      keys.map((k) => [k, new Map([[this.identities.get(k)!.namespace, 1]])]),
    );
    const find = (k: string): string => {
      let root = k;
      while (parent.get(root) !== root) root = parent.get(root)!;
      while (parent.get(k) !== root) {
        const next = parent.get(k)!;
        parent.set(k, root);
        k = next;
      }
      return root;
    };

    const candidates = new Map<string, LinkState>();
    for (const k of keys) {
      for (const lk of this.adjacency.get(k) ?? []) {
        const link = this.links.get(lk)!;
        if (touched.has(link.a) && touched.has(link.b)) candidates.set(lk, link);
      }
    }
    const ranked = [...candidates.entries()].sort(
      ([ka, la], [kb, lb]) => this.compareLinks(la, lb) || (ka < kb ? -1 : 1),
    );

    for (const [lk, link] of ranked) {
      const ra = find(link.a);
      const rb = find(link.b);
      let applied = !(this.rules.isolated?.has(link.a) || this.rules.isolated?.has(link.b));
      if (applied && ra !== rb) {
        if (this.fits(size.get(ra)! + size.get(rb)!, perNs.get(ra)!, perNs.get(rb)!)) {
          parent.set(rb, ra);
          size.set(ra, size.get(ra)! + size.get(rb)!);
          const counts = perNs.get(ra)!;
          for (const [ns, n] of perNs.get(rb)!) counts.set(ns, (counts.get(ns) ?? 0) + n);
        } else {
          applied = false;
        }
      }
      if (link.applied !== applied) {
        link.applied = applied;
        this.dirtyLinks.add(lk);
      }
    }

    const parts = new Map<string, string[]>();
    for (const k of keys) {
      const root = find(k);
      if (!parts.has(root)) parts.set(root, []);
      parts.get(root)!.push(k);
    }
    return this.assignProfiles([...parts.values()], cause, at);
  }

  private fits(total: number, a: Map<string, number>, b: Map<string, number>): boolean {
    if (total > this.rules.maxIdentities) return false;
    for (const [ns, n] of a) {
      if (n + (b.get(ns) ?? 0) > this.nsRules(ns).cap) return false;
    }
    for (const [ns, n] of b) {
      if (!a.has(ns) && n > this.nsRules(ns).cap) return false;
    }
    return true;
  }

  /** Negative when `x` outranks `y`. */
  private compareLinks(x: LinkState, y: LinkState): number {
    const low = (l: LinkState) =>
      Math.min(
        this.nsRules(this.identities.get(l.a)!.namespace).priority,
        this.nsRules(this.identities.get(l.b)!.namespace).priority,
      );
    return low(y) - low(x) || y.lastSeen - x.lastSeen;
  }

  /**
   * Gives each part a profile id. An old profile stays with the part holding its
   * highest-ranked identity (rule 4: "the part holding the highest-priority identity keeps
   * the old profileId"); when several old profiles land in one part (a merge), the one
   * whose anchor ranks highest survives. Parts no old profile claims get a new id.
   * Records merge / move / evict / split history by comparing old and new membership.
   */
  private assignProfiles(parts: string[][], cause: GraphCause, at: number): string[] {
    const oldProfile = new Map<string, string>();
    const oldMembers = new Map<string, string[]>();
    for (const part of parts) {
      for (const k of part) {
        const p = this.identities.get(k)!.profileId;
        oldProfile.set(k, p);
        if (!oldMembers.has(p)) oldMembers.set(p, []);
        oldMembers.get(p)!.push(k);
      }
    }

    const partOf = new Map<string, number>();
    parts.forEach((part, i) => part.forEach((k) => partOf.set(k, i)));

    const claims = new Map<number, { profile: string; anchor: string }[]>();
    for (const [profile, keys] of oldMembers) {
      const anchor = this.bestAnchor(keys);
      const i = partOf.get(anchor)!;
      if (!claims.has(i)) claims.set(i, []);
      claims.get(i)!.push({ profile, anchor });
    }

    const assigned: string[] = [];
    const kept = new Set<string>();
    parts.forEach((_, i) => {
      const claimants = claims.get(i) ?? [];
      // An existing profile keeps its id when a new identity joins it, whatever the
      // new identity's priority: ids change only through merges and splits.
      const isFresh = (p: string) => (this.fresh.profiles.has(p) ? 1 : 0);
      claimants.sort(
        (x, y) =>
          isFresh(x.profile) - isFresh(y.profile) || this.compareAnchors(x.anchor, y.anchor),
      );
      const profile =
        claimants[0]?.profile ??
        this.newProfileId(this.bestAnchor(parts[i]!), oldProfile.get(this.bestAnchor(parts[i]!)));
      assigned[i] = profile;
      kept.add(profile);
    });

    // History, from the before/after difference.
    parts.forEach((part, i) => {
      const profile = assigned[i]!;
      const bySource = new Map<string, string[]>();
      for (const k of part) {
        const from = oldProfile.get(k)!;
        if (from === profile) continue;
        if (!bySource.has(from)) bySource.set(from, []);
        bySource.get(from)!.push(k);
      }
      const merged: string[] = [];
      for (const [from, moved] of bySource) {
        const wholeOldProfile = moved.length === oldMembers.get(from)!.length;
        if (!kept.has(from) && wholeOldProfile) {
          // A brand-new identity arriving on its own is growth, not a merge of graphs.
          const existedBefore = moved.some((k) => !this.fresh.identities.has(k));
          if (existedBefore) merged.push(from);
        } else if (!oldMembers.has(profile) && part.every((k) => oldProfile.get(k) === from)) {
          // The part is made only of identities that left `from`: it split off.
          this.history.push({
            at,
            kind: cause === "ingest" ? "evict" : "split",
            cause,
            identities: moved.sort(),
            profiles: [from, profile],
          });
        } else {
          this.history.push({
            at,
            kind: "move",
            cause,
            identities: moved.sort(),
            profiles: [from, profile],
          });
        }
      }
      if (merged.length > 0) {
        this.history.push({
          at,
          kind: "merge",
          cause,
          identities: [...part].sort(),
          profiles: [profile, ...merged],
        });
      }
    });

    // Apply the new assignment.
    for (const [profile] of oldMembers) {
      if (!kept.has(profile)) {
        this.members.delete(profile);
        this.markChanged(profile);
      }
    }
    parts.forEach((part, i) => {
      const profile = assigned[i]!;
      const set = new Set(part);
      const before = this.members.get(profile);
      if (!before || before.size !== set.size || part.some((k) => !before.has(k)))
        this.markChanged(profile);
      this.members.set(profile, set);
      for (const k of part) {
        const identity = this.identities.get(k)!;
        if (identity.profileId !== profile) {
          identity.profileId = profile;
          this.dirtyIdentities.add(k);
        }
      }
    });
    // Profiles that lost members but survive elsewhere were updated above; make sure the
    // old owners of moved identities are marked changed too.
    for (const [k, from] of oldProfile)
      if (this.identities.get(k)!.profileId !== from) this.markChanged(from);
    return assigned;
  }

  // ---- helpers -------------------------------------------------------------------

  /** Identities and profiles minted by the observation in progress. */
  private readonly fresh = { identities: new Set<string>(), profiles: new Set<string>() };

  private nsRules(namespace: string): NamespaceGraphRules {
    return this.rules.namespaces.get(namespace) ?? { priority: 0, cap: Number.POSITIVE_INFINITY };
  }

  private bestByPriority(keys: string[]): string {
    return highestPriority(
      keys.map((k) => this.identities.get(k)!),
      this.rules,
    ).key;
  }

  /** Negative when `x` is the better profile anchor: priority, then oldest, then key. */
  private compareAnchors(x: string, y: string): number {
    const ix = this.identities.get(x)!;
    const iy = this.identities.get(y)!;
    return (
      this.nsRules(iy.namespace).priority - this.nsRules(ix.namespace).priority ||
      ix.firstSeen - iy.firstSeen ||
      (x < y ? -1 : x > y ? 1 : 0)
    );
  }

  private bestAnchor(keys: string[]): string {
    return [...keys].sort((x, y) => this.compareAnchors(x, y))[0]!;
  }

  private upsertLink(a: string, b: string, dataset: string, at: number): void {
    const key = linkKey(a, b);
    const existing = this.links.get(key);
    if (existing) {
      if (at > existing.lastSeen || at < existing.firstSeen) {
        existing.lastSeen = Math.max(existing.lastSeen, at);
        existing.firstSeen = Math.min(existing.firstSeen, at);
        this.dirtyLinks.add(key);
      }
      return;
    }
    const [lo, hi] = a < b ? [a, b] : [b, a];
    this.links.set(key, { a: lo, b: hi, dataset, firstSeen: at, lastSeen: at, applied: false });
    this.adjacent(lo).add(key);
    this.adjacent(hi).add(key);
    this.dirtyLinks.add(key);
    this.deletedLinks.delete(key);
  }

  private removeLink(key: string): void {
    const link = this.links.get(key);
    if (!link) return;
    this.links.delete(key);
    this.adjacency.get(link.a)?.delete(key);
    this.adjacency.get(link.b)?.delete(key);
    this.dirtyLinks.delete(key);
    this.deletedLinks.set(key, link);
  }

  private markChanged(profileId: string): void {
    this.changedProfiles.add(profileId);
    this.recentChanges.add(profileId);
  }

  private adjacent(key: string): Set<string> {
    let set = this.adjacency.get(key);
    if (!set) this.adjacency.set(key, (set = new Set()));
    return set;
  }

  private memberSet(profileId: string): Set<string> {
    let set = this.members.get(profileId);
    if (!set) this.members.set(profileId, (set = new Set()));
    return set;
  }
}

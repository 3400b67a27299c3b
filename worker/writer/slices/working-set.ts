/**
 * The profiles a slice changes, held in memory: their graph, fragments, rule-relevant
 * events and segment memberships, loaded in one read. Ingest groups and graph deletes
 * both change them here and call `afterChange` after each change, which re-evaluates the
 * segments of every profile the change touched or re-shaped (a merge, a split, a delete)
 * — as a sequential run would have them after that change — and records the activation
 * facts (merges, splits, entries, exits) in order. `statements` is the whole write.
 *
 * Host slice: `store` (one read, statement builders), `ids` (identity and history ids).
 */
import { identityKey } from "../../../shared/identity/normalize";
import { applyPatch } from "../../../shared/merge-patch";
import { COMPUTED_DATASET } from "../../../shared/schemas/computed";
import type { ConsentSettings, ConsentStatus } from "../../../shared/schemas/consent";
import { ComputedStates, sameFragment } from "../../computed/profiles";
import { isGranted, type ProfileConsent, profileConsent } from "../../consent/merge";
import { recheckWriteStatements } from "../../db/queries/computed";
import {
  type ChoiceRow,
  consentRecordStatements,
  touchedChoicesRead,
} from "../../db/queries/consent";
import {
  graphRead,
  graphWriteStatements,
  type LoadedGraph,
  profileActivityStatements,
} from "../../db/queries/graph";
import {
  eventInsertStatements,
  fragmentDeleteStatements,
  fragmentWriteStatements,
  type TouchedProfileData,
  touchedProfileDataRead,
} from "../../db/queries/ingest";
import { profileNameStatements } from "../../db/queries/profile-names";
import { constantRead, type Read, type WriteStatement } from "../../db/queries/reads";
import { membershipWriteStatements, type SegmentDef } from "../../db/queries/segments";
import { GraphWorkspace, highestPriority } from "../../graph/workspace";
import type { ComputedMeta } from "../../model/computed";
import type { ConsentChoice } from "../../model/consent";
import type { IdentityRef } from "../../model/graph";
import {
  DEFAULT_POLICY,
  displayNameOf,
  type FragmentInput,
  mergeFragments,
} from "../../profiles/merge";
import { type MembershipState, membershipRow, nextMembership } from "../../segments/evaluate";
import { eventNeedsOf, type RuleEvent } from "../../segments/rules";
import { type ActivationFact, graphActivation, type ProfileView } from "../../webhooks/outbox";
import type { Counters, WriterConfig, WriterHost } from "../host";

interface Fragment {
  dataset: string;
  key: string;
  attributes: Record<string, unknown>;
  updatedAt: number;
  meta?: Record<string, unknown> | null;
}

/** A new event to store, anchored on the identity it follows through splits. */
interface NewEvent {
  id: string;
  type: string;
  at: number;
  dataset: string;
  anchor: string;
  data: Record<string, unknown> | null;
  receivedAt: number;
}

const fragmentId = (dataset: string, key: string) => `${dataset}\u0000${key}`;
const membershipKey = (segmentId: string, profileId: string) => `${segmentId}\u0000${profileId}`;

/** The reads that load the profiles holding any of `refs` (add them to the slice's one read). */
export function workingSetReads(
  host: WriterHost,
  config: WriterConfig,
  refs: readonly IdentityRef[],
  earliest: number,
  consentNeeded = config.readsConsent,
): {
  graph: Read<LoadedGraph>;
  data: Read<TouchedProfileData>;
  choices: Read<ChoiceRow[]>;
  counters: Read<Counters>;
} {
  const sql = host.store.sql;
  const needs = eventNeedsOf(
    config.segments.map((s) => s.rule),
    earliest,
  );
  return {
    graph: graphRead(sql, refs),
    data: touchedProfileDataRead(sql, refs, config.segments.length > 0 ? needs : undefined),
    // Consent matters only where something reads it: a call that records or needs it, a
    // segment that tests it, a destination that declared purposes.
    choices: consentNeeded ? touchedChoicesRead(sql, refs) : constantRead([]),
    counters: host.ids.countersRead(),
  };
}

export class WorkingSet {
  readonly ws: GraphWorkspace;
  readonly newEvents: NewEvent[] = [];
  /** Merges, splits, segment entries and exits, in the order a sequential run would see them. */
  readonly activation: ActivationFact[] = [];
  private historySeen = 0;
  private readonly segments: readonly SegmentDef[];
  private readonly computed: ComputedStates;
  private readonly consentSettings: ConsentSettings;
  /** Each identity's newest choice per purpose, and the choices this slice made: [key, purpose, choice]. */
  private readonly choices = new Map<string, Record<string, ConsentChoice>>();
  private readonly newChoices: [string, string, ConsentChoice][] = [];
  /** Identities whose rolling-window recheck time changed: [key, time or null]. */
  private readonly rechecks = new Map<string, number | null>();
  private readonly fragments = new Map<string, Fragment>();
  private readonly fragmentsByIdentity = new Map<string, Set<string>>();
  private readonly changedFragmentIds = new Set<string>();
  private readonly removedFragmentIds = new Set<string>();
  private readonly eventsByIdentity = new Map<string, RuleEvent[]>();
  private readonly memberships = new Map<string, MembershipState>();
  private readonly changedMembershipKeys = new Set<string>();
  /** Profiles whose data changed (a record, a consent choice): `updated_at` moves now. */
  private readonly touched = new Set<string>();
  /** Profiles that only got events or device links: `updated_at` moves at most once a minute. */
  private readonly active = new Set<string>();
  private readonly renamed = new Set<string>();

  constructor(
    config: WriterConfig,
    graph: LoadedGraph,
    data: TouchedProfileData,
    choices: readonly ChoiceRow[],
  ) {
    this.segments = config.segments;
    this.consentSettings = config.consent;
    for (const c of choices) {
      const key = identityKey(c.namespace, c.value);
      this.choices.set(key, {
        ...(this.choices.get(key) ?? {}),
        [c.purpose]: { status: c.status, at: c.at, source: c.source },
      });
    }
    // Computed attributes need no event: each identity's states (in its computed fragment) are enough.
    this.computed = new ComputedStates(
      config.computed,
      data.fragments
        .filter((f) => f.dataset === COMPUTED_DATASET)
        .map((f) => ({
          namespace: f.namespace,
          value: f.value,
          meta: f.meta as ComputedMeta | null,
        })),
    );
    this.ws = new GraphWorkspace(config.rules, config.newProfileId);
    this.ws.load(graph.identities, graph.links);
    for (const f of data.fragments)
      this.setFragment({
        dataset: f.dataset,
        key: identityKey(f.namespace, f.value),
        attributes: f.attributes,
        updatedAt: f.updatedAt,
        meta: f.meta,
      });
    for (const e of data.events)
      this.addEvent(identityKey(e.namespace, e.value), { type: e.type, at: e.at, data: e.data });
    for (const m of data.memberships)
      this.memberships.set(membershipKey(m.segmentId, m.profileId), {
        status: m.status,
        since: m.since,
        recheckAt: m.recheckAt,
      });
  }

  /** Applies a record's attribute patch to its fragment (dataset × first identity). */
  patchFragment(dataset: string, key: string, patch: Record<string, unknown>, at: number): void {
    const current = this.fragments.get(fragmentId(dataset, key));
    this.setFragment({
      dataset,
      key,
      attributes: applyPatch(current?.attributes ?? {}, patch),
      updatedAt: Math.max(current?.updatedAt ?? 0, at),
    });
    this.changedFragmentIds.add(fragmentId(dataset, key));
  }

  addNewEvent(event: NewEvent): void {
    this.newEvents.push(event);
    this.addEvent(event.anchor, { type: event.type, at: event.at, data: event.data });
    this.computed.count(
      event.anchor,
      { type: event.type, at: event.at, data: event.data },
      event.receivedAt,
    );
  }

  /** The identity an event of these identities belongs to: the highest-priority one, which it follows through splits. */
  eventAnchor(identities: readonly IdentityRef[]): string {
    return highestPriority(identities, this.ws.rules).key;
  }

  /**
   * A profile got an item. Data (a record, a consent choice) moves its `updated_at` at once;
   * activity alone (events, device links) at most once a minute. `renamed` when the data may
   * change its display name.
   */
  touch(profileId: string, change: { data: boolean; renamed: boolean }): void {
    (change.data ? this.touched : this.active).add(profileId);
    if (change.renamed) this.renamed.add(profileId);
  }

  /**
   * After one change: the merges and splits it made, then the segment changes they and its
   * data caused, for the profiles it touched and those whose membership changed; retired
   * profiles lose their memberships, as the graph write does.
   */
  afterChange(touched: readonly string[], now: number): void {
    this.activation.push(...graphActivation(this.ws.history.slice(this.historySeen)));
    this.historySeen = this.ws.history.length;
    const changed = this.ws.takeRecentChanges();
    for (const p of changed) {
      if (this.ws.members.has(p)) continue;
      for (const s of this.segments) {
        this.memberships.delete(membershipKey(s.id, p));
        this.changedMembershipKeys.delete(membershipKey(s.id, p));
      }
    }
    // Computed attributes first: segments may test them.
    if (this.computed.active)
      for (const p of new Set([...touched, ...changed])) this.placeComputed(p, now);
    if (this.segments.length === 0) return;
    for (const profileId of new Set([...touched, ...changed])) {
      if (!this.ws.members.has(profileId)) continue;
      const subject = {
        attributes: this.mergedAttributes(profileId),
        events: this.eventsOf(profileId),
        consent: this.consentOf(profileId),
      };
      for (const segment of this.segments) {
        const key = membershipKey(segment.id, profileId);
        const was = this.memberships.get(key);
        const next = nextMembership(segment, subject, was, now);
        if (!next) continue;
        if (
          next.status !== was?.status &&
          (next.status === "realized" || was?.status === "realized")
        ) {
          this.activation.push({
            type: next.status === "realized" ? "segment.entered" : "segment.exited",
            profileId,
            at: now,
            segmentId: segment.id,
          });
        }
        this.memberships.set(key, next);
        this.changedMembershipKeys.add(key);
      }
    }
  }

  /** A profile's consent: its identities' choices combined by the conflict rule. */
  consentOf(profileId: string): ProfileConsent {
    return profileConsent(
      this.consentSettings,
      [...(this.ws.members.get(profileId) ?? [])].map((k) => this.choices.get(k) ?? {}),
    );
  }

  /**
   * Whether the profile these identities belong to (as the graph stands, with this slice's
   * choices) has granted `purpose` — asked before an item that needs it is applied, so a
   * denied visitor's events store nothing.
   */
  allows(refs: readonly IdentityRef[], purpose: string): boolean {
    const keys = refs.map((r) => identityKey(r.namespace, r.value));
    const members = new Set(keys);
    for (const key of keys) {
      const profile = this.ws.profileOf(key);
      for (const m of (profile && this.ws.members.get(profile)) || []) members.add(m);
    }
    return isGranted(
      profileConsent(
        this.consentSettings,
        [...members].map((k) => this.choices.get(k) ?? {}),
      ),
      purpose,
    );
  }

  /**
   * Records choices for each identity (linked, as an event's identities are). An unchanged
   * choice is not recorded again. A purpose the profile had granted and now denies exits it
   * from its realized segments at the destinations that declared that purpose.
   */
  recordConsent(
    refs: readonly IdentityRef[],
    choices: Record<string, ConsentStatus>,
    source: string,
    at: number,
    now: number,
  ): string {
    const profileId = this.ws.observe(refs, "consent", at);
    const anchor = this.eventAnchor(refs);
    const before = this.consentOf(profileId);
    for (const ref of refs) {
      const key = identityKey(ref.namespace, ref.value);
      const own = { ...(this.choices.get(key) ?? {}) };
      for (const [purpose, status] of Object.entries(choices)) {
        const current = own[purpose];
        if (current && (current.status === status || current.at > at)) continue; // unchanged, or older than what is known
        own[purpose] = { status, at, source };
        this.newChoices.push([key, purpose, own[purpose]!]);
      }
      this.choices.set(key, own);
    }
    const after = this.consentOf(profileId);
    const revoked = Object.keys(after).filter(
      (p) => after[p]!.status === "denied" && before[p]?.status !== "denied",
    );
    if (revoked.length) {
      for (const s of this.segments) {
        if (this.memberships.get(membershipKey(s.id, profileId))?.status !== "realized") continue;
        this.activation.push({
          type: "segment.exited",
          profileId,
          at: now,
          segmentId: s.id,
          reason: "consent",
          purposes: revoked,
        });
      }
    }
    return anchor;
  }

  /** What a webhook delivery says of a profile: its primary identity and merged attributes. */
  view(profileId: string): ProfileView | undefined {
    const primary = this.ws.primaryIdentity(profileId);
    if (!primary) return undefined;
    return {
      primaryIdentity: { namespace: primary.namespace, id: primary.value },
      attributes: this.mergedAttributes(profileId),
      consent: this.consentOf(profileId),
    };
  }

  /**
   * The whole write, in order: the graph changeset (new identities get their ids here),
   * fragments, events, display names, and the memberships that changed — after the graph
   * statements, which delete the memberships of retired profiles.
   */
  statements(host: WriterHost, now: number): WriteStatement[] {
    const sql = host.store.sql;
    const newIds = new Map<string, number>();
    const change = this.ws.changeset([...this.touched].filter((p) => this.ws.members.has(p)));
    for (const identity of change.identities)
      if (identity.id === undefined) newIds.set(identity.key, host.ids.identity());
    const rowId = (key: string) =>
      this.ws.identities.get(key)?.id ?? newIds.get(key) ?? this.ws.deletedIdentities.get(key)?.id;
    const written = new Set(change.profiles.map((p) => p.id));
    return [
      ...graphWriteStatements(sql, change, rowId, {
        firstHistoryId: host.ids.history(change.history.length),
        now,
      }),
      ...profileActivityStatements(
        sql,
        [...this.active].filter((p) => this.ws.members.has(p) && !written.has(p)),
        now,
      ),
      ...fragmentDeleteStatements(
        sql,
        [...this.removedFragmentIds].flatMap((id) => {
          const [dataset, key] = id.split("\u0000") as [string, string];
          const row = this.ws.identities.has(key) ? rowId(key) : undefined; // a deleted identity's fragments go with it
          return row === undefined ? [] : [[row, dataset] as [number, string]];
        }),
      ),
      ...fragmentWriteStatements(
        sql,
        [...this.changedFragmentIds]
          .map((id) => this.fragments.get(id)!)
          .map((f) => [f.dataset, rowId(f.key)!, f.attributes, f.updatedAt, f.meta ?? undefined]),
      ),
      ...consentRecordStatements(
        sql,
        this.newChoices.flatMap(([key, purpose, c]) =>
          this.ws.identities.has(key) ? [[rowId(key), purpose, c.at, c.status, c.source, now]] : [],
        ),
      ),
      ...recheckWriteStatements(
        sql,
        [...this.rechecks].flatMap(([key, at]) =>
          this.ws.identities.has(key) ? [[rowId(key)!, at] as [number, number | null]] : [],
        ),
      ),
      ...eventInsertStatements(
        sql,
        this.newEvents.map((e) => [
          e.id,
          e.type,
          e.at,
          e.dataset,
          rowId(e.anchor)!,
          e.data,
          e.receivedAt,
        ]),
      ),
      ...profileNameStatements(sql, this.displayNames()),
      ...membershipWriteStatements(sql, this.changedMemberships()),
    ];
  }

  /** Rows for the memberships that differ from what was loaded. */
  private changedMemberships(): unknown[][] {
    return [...this.changedMembershipKeys].flatMap((key) => {
      const m = this.memberships.get(key);
      if (!m) return [];
      const [segmentId, profileId] = key.split("\u0000") as [string, string];
      return this.ws.members.has(profileId) ? [membershipRow(segmentId, profileId, m)] : [];
    });
  }

  /**
   * Display names of the profiles whose names may have changed: those that got a record
   * with a name field, and those whose membership changed (a merge can bring a name, a
   * split can take it away). The most recently written name wins.
   */
  private displayNames(): [string, string | null][] {
    const profiles = new Set(
      [...this.renamed, ...this.ws.changedLiveProfiles()].filter((p) => this.ws.members.has(p)),
    );
    return [...profiles].map((p) => [p, displayNameOf(this.mergedAttributes(p)) ?? null]);
  }

  private mergedAttributes(profileId: string): Record<string, unknown> {
    const inputs: FragmentInput[] = [];
    for (const key of this.ws.members.get(profileId) ?? []) {
      const identity = this.ws.identities.get(key)!;
      for (const id of this.fragmentsByIdentity.get(key) ?? []) {
        const f = this.fragments.get(id)!;
        inputs.push({
          dataset: f.dataset,
          namespace: identity.namespace,
          value: identity.value,
          attributes: f.attributes,
          updatedAt: f.updatedAt,
        });
      }
    }
    return mergeFragments(inputs, DEFAULT_POLICY).attributes;
  }

  private eventsOf(profileId: string): RuleEvent[] {
    return [...(this.ws.members.get(profileId) ?? [])].flatMap(
      (key) => this.eventsByIdentity.get(key) ?? [],
    );
  }

  /**
   * The `computed` fragments of a profile's identities (see `computed/profiles.ts`): each
   * member's states, and the profile's values on its primary identity — rewritten where
   * they changed, so a merge moves the values to the new primary and a split gives each
   * part its own.
   */
  private placeComputed(profileId: string, now: number): void {
    const members = this.ws.members.get(profileId);
    const primary = this.ws.primaryIdentity(profileId);
    if (!members || !primary) return;
    for (const [key, wanted] of this.computed.place(
      [...members],
      identityKey(primary.namespace, primary.value),
    )) {
      const id = fragmentId(COMPUTED_DATASET, key);
      const current = this.fragments.get(id);
      if (sameFragment(wanted, current)) continue;
      const recheck = wanted?.meta.r ?? null;
      if (recheck !== ((current?.meta as ComputedMeta | null | undefined)?.r ?? null))
        this.rechecks.set(key, recheck);
      if (wanted) {
        this.setFragment({
          dataset: COMPUTED_DATASET,
          key,
          attributes: wanted.attributes,
          updatedAt: now,
          meta: wanted.meta as Record<string, unknown>,
        });
        this.changedFragmentIds.add(id);
        this.removedFragmentIds.delete(id);
      } else {
        this.fragments.delete(id);
        this.fragmentsByIdentity.get(key)?.delete(id);
        this.changedFragmentIds.delete(id);
        this.removedFragmentIds.add(id);
      }
    }
  }

  private setFragment(f: Fragment): void {
    const id = fragmentId(f.dataset, f.key);
    this.fragments.set(id, f);
    if (!this.fragmentsByIdentity.has(f.key)) this.fragmentsByIdentity.set(f.key, new Set());
    this.fragmentsByIdentity.get(f.key)!.add(id);
  }

  private addEvent(key: string, event: RuleEvent): void {
    if (!this.eventsByIdentity.has(key)) this.eventsByIdentity.set(key, []);
    this.eventsByIdentity.get(key)!.push(event);
  }
}

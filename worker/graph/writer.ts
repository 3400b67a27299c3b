import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";
import { applyIngestGroup, type CallResult, type GroupHooks } from "../ingest/group";
import type { IngestCommand } from "../ingest/types";
import { benchDelayMs, meterD1, type MeteredD1 } from "../lib/d1-latency";
import { eraseProfile, type EraseReceipt } from "../privacy/erase";
import { expireEventsSlice, expireProfilesSlice, type StepProgress } from "../maintenance/retention";
import { runRechecks, runSegmentSlice, SEGMENT_PAGE, SEGMENT_SLICE, type SegmentJob } from "../segments/jobs";
import { WriteLane, type LaneStats } from "./lane";
import { deleteIdentity, deleteLink, type DeleteResult } from "./operations";
import type { IdentityRef } from "./workspace";
import { WriterState } from "./writer-state";
import { deliveryInsertStatements } from "../db/queries/webhooks";
import type { WebhookMessage } from "../webhooks/send";

/** What one ingest call gets back, with how its group went (for Server-Timing and the bench). */
export interface IngestApplied extends CallResult {
  lane: {
    /** Calls and items in the group this call was committed with. */
    group: number;
    items: number;
    /** D1 round trips the group made. */
    roundTrips: number;
    /** Milliseconds per step of the group. */
    phases: Record<string, number>;
  };
}

export type JournalEntry = { kind: "ingest"; command: IngestCommand } | { kind: "deleteIdentity" | "deleteLink" | "erase"; refs: IdentityRef[] };

/** Items per group: one group's batch stays far below D1's 30 s and the Worker's memory. */
const MAX_GROUP_ITEMS = 5_000;

/**
 * The single writer of the identity graph (SPEC rule 6: concurrency never loses a link).
 *
 * D1 has no interactive transactions, and a graph change is read → compute → write. Every
 * such change therefore runs here, in one Durable Object, through one `WriteLane`: calls
 * that arrive while a group is being written form the next group, which is read once,
 * applied in memory in arrival order, and committed in one atomic `batch()`. The writer
 * owns what only it changes (graph rules, segment definitions, id counters), so a group
 * costs two D1 round trips (three when a segment membership changes).
 */
export class GraphWriter extends DurableObject<Bindings> {
  private readonly d1: MeteredD1;
  private readonly state: WriterState;
  private readonly lane: WriteLane<IngestCommand, IngestApplied>;
  /** Test seams (set through `runInDurableObject`): group hooks, and a journal of what was committed, in commit order. */
  hooks: GroupHooks = {};
  journal?: JournalEntry[];

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.d1 = meterD1(env.DB, benchDelayMs(env));
    this.state = new WriterState(env);
    this.lane = new WriteLane((commands) => this.commitGroup(commands), { maxGroupItems: MAX_GROUP_ITEMS, sizeOf: (c) => c.items.length });
  }

  private async commitGroup(commands: IngestCommand[]): Promise<IngestApplied[]> {
    const before = this.d1.roundTrips();
    const { results, report, deliveryIds } = await applyIngestGroup(this.d1.db, this.state, commands, this.hooks);
    this.announce(deliveryIds);
    const lane = { group: report.calls, items: report.items, roundTrips: this.d1.roundTrips() - before, phases: report.phases };
    this.journal?.push(...commands.map((command): JournalEntry => ({ kind: "ingest", command })));
    return results.map((r) => ({ ...r, lane }));
  }

  ingest(command: IngestCommand): Promise<IngestApplied> {
    return this.lane.submit(command);
  }

  /**
   * A signed-in visitor's device seen with their identity (`/v1/context`): links them in
   * the next group. Returns the person's profile id, or undefined when the identity is
   * suppressed.
   */
  async linkDevice(device: string, identity: IdentityRef, at: number): Promise<string | undefined> {
    const applied = await this.lane.submit({
      items: [{ index: 0, kind: "link", dataset: "web", identities: [identity, { namespace: "device", value: device }], at }],
      atomic: true,
      receivedAt: at,
    });
    const outcome = applied.outcomes[0];
    return outcome?.status === "accepted" ? outcome.profileId : undefined;
  }

  deleteIdentity(ref: IdentityRef): Promise<DeleteResult> {
    return this.exclusive({ kind: "deleteIdentity", refs: [ref] }, () => deleteIdentity(this.d1.db, this.state, ref));
  }

  deleteLink(from: IdentityRef, to: IdentityRef): Promise<DeleteResult> {
    return this.exclusive({ kind: "deleteLink", refs: [from, to] }, () => deleteLink(this.d1.db, this.state, from, to));
  }

  erase(ref: IdentityRef, suppress: boolean): Promise<EraseReceipt | undefined> {
    return this.exclusive({ kind: "erase", refs: [ref] }, async () => {
      let deliveryIds: string[] = [];
      // profile.erased deliveries go in the erase's own batch (no personal data in them).
      const receipt = await eraseProfile(this.d1.db, await this.state.suppressionHash(), ref, suppress, Date.now(), async (profileId) => {
        const deliveries = await this.state.deliveriesFor(this.d1.db, [{ type: "profile.erased", profileId, at: Date.now() }], () => undefined);
        deliveryIds = deliveries.map((d) => d.id);
        return deliveryInsertStatements(this.d1.db, deliveries);
      });
      this.announce(deliveryIds);
      return receipt;
    });
  }

  /**
   * Tells the webhooks consumer about committed deliveries, without holding the lane: if
   * the message is lost (a crash right here), the cron sweep sends them.
   */
  private announce(ids: string[]): void {
    for (let i = 0; i < ids.length; i += 50) {
      this.env.WEBHOOK_QUEUE.send({ kind: "webhook-deliver", ids: ids.slice(i, i + 50) } satisfies WebhookMessage).catch((err) => console.error(`webhook announce failed (the cron sweep will send): ${err}`));
    }
  }

  private exclusive<T>(entry: JournalEntry, run: () => Promise<T>): Promise<T> {
    return this.lane.runExclusive(async () => {
      const result = await run();
      this.journal?.push(entry);
      return result;
    });
  }

  /**
   * One page of a segment's background evaluation, as slices between ingest groups
   * (memberships are written here too, so they never race an ingest of the same profile).
   */
  async segmentPage(job: SegmentJob): Promise<SegmentJob | undefined> {
    let current = job;
    for (let done = 0; done < SEGMENT_PAGE; done += SEGMENT_SLICE) {
      const slice = await this.lane.runInBackground(() => runSegmentSlice(this.d1.db, this.state, current));
      this.announce(slice?.deliveryIds ?? []);
      if (!slice || slice.done) return undefined;
      current = slice.job;
    }
    return current;
  }

  /**
   * Retention: deletes one step's expired events (and re-evaluates the segments that counted
   * them) between ingest groups, recording the step's progress in the same batch.
   */
  async expireEvents(eventIds: string[], now: number, progress: StepProgress): Promise<{ deleted: number }> {
    const result = await this.lane.runInBackground(() => expireEventsSlice(this.d1.db, this.state, eventIds, now, progress));
    this.announce(result.deliveryIds);
    return { deleted: result.deleted };
  }

  /** Retention: one page of profiles checked for pseudonymous expiry, as a background slice. */
  expireProfiles(cutoff: number, after: string, now: number, progress: StepProgress): Promise<{ checked: number; expired: number; after: string }> {
    return this.lane.runInBackground(() => expireProfilesSlice(this.d1.db, this.state, cutoff, after, now, progress));
  }

  /** One slice of cron rechecks; returns how many profiles it re-evaluated. */
  async rechecks(now: number): Promise<number> {
    const { count, deliveryIds } = await this.lane.runInBackground(() => runRechecks(this.d1.db, this.state, now));
    this.announce(deliveryIds);
    return count;
  }

  /** Namespaces, graph settings or segments changed: the next write reloads them. */
  configChanged(): void {
    this.state.invalidateConfig();
  }

  /** Group commit figures since the object started (for the bench). */
  laneStats(): { groups: number; calls: number; retriedGroups: number; sizes: [number, number][]; roundTrips: number } {
    const s: LaneStats = this.lane.stats;
    return { groups: s.groups, calls: s.calls, retriedGroups: s.retriedGroups, sizes: [...s.sizes].sort((a, b) => a[0] - b[0]), roundTrips: this.d1.roundTrips() };
  }
}

/** The one GraphWriter instance. */
export function graphWriter(env: Bindings): DurableObjectStub<GraphWriter> {
  return env.GRAPH_WRITER.get(env.GRAPH_WRITER.idFromName("identity-graph"));
}

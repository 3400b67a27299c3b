/**
 * The one commit step. Every slice of the writer — ingest groups, graph deletes, segment
 * pages, rechecks, retention steps, erasures — ends here, so every change of the graph or
 * of a profile gets the same treatment:
 *
 *   slice result → segment transitions → activation facts → outbox deliveries
 *     → one atomic write → delivery ids (the façade announces them)
 *
 * A slice that changes profiles in memory (ingest, deletes) evaluates segments itself
 * after each change, as a sequential run would, and hands over the transitions among its
 * facts; a slice that works from stored facts (segment pages, rechecks, expired events)
 * hands over those facts and the step evaluates them. Computed attributes are kept by the
 * slices themselves, before either evaluation: the working set counts new events into
 * their identities' states and re-places each changed profile's `computed` fragment
 * before `afterChange` evaluates segments; background slices (`slices/computed.ts`) hand
 * over facts that already hold the new values.
 */
import type { WriteStatement } from "../db/queries/reads";
import type { ProfileFacts, SegmentDef } from "../db/queries/segments";
import { deliveryInsertStatements } from "../db/queries/webhooks";
import { evaluateFacts } from "../segments/evaluate";
import { type ActivationFact, buildDeliveries, type ProfileView } from "../webhooks/outbox";
import type { WriterHost } from "./host";

export interface SliceResult {
  /** The slice's own change (graph, data, memberships it evaluated), in write order. */
  statements: WriteStatement[];
  /** Merges, splits, erasures and segment changes the slice made, in the order they happened. */
  activation: ActivationFact[];
  /** What a delivery says of a profile the slice changed. */
  view?: (profileId: string) => ProfileView | undefined;
  /** Stored facts of profiles to evaluate for `segments` (as they stand after the change). */
  evaluate?: {
    profileIds: readonly string[];
    segments: readonly SegmentDef[];
    facts: ProfileFacts;
    now: number;
  };
  /** Statements that go last in the write (a step's recorded progress). */
  trailing?: WriteStatement[];
}

interface Committed {
  /** Webhook deliveries written with the change, for the façade to announce. */
  deliveryIds: string[];
  /** The commit's position in the store's log (undefined: nothing written, or a store without one). */
  seq: number | undefined;
  /** Segment entries and exits this commit evaluated (from `evaluate`). */
  realized: number;
  exited: number;
}

export async function commitSlice(
  host: WriterHost,
  slice: SliceResult,
  beforeWrite?: () => void | Promise<void>,
): Promise<Committed> {
  const sql = host.store.sql;
  const config = await host.config.current();
  const evaluation = slice.evaluate
    ? evaluateFacts(
        sql,
        slice.evaluate.profileIds,
        slice.evaluate.segments,
        slice.evaluate.facts,
        slice.evaluate.now,
        config.consent,
      )
    : undefined;
  const activation = evaluation
    ? [...slice.activation, ...evaluation.transitions]
    : slice.activation;
  const view = (profileId: string) => evaluation?.views.get(profileId) ?? slice.view?.(profileId);

  // An outbox: the deliveries are written in the same batch as the change, so a crash cannot lose one.
  const { webhooks } = config;
  let deliveries: ReturnType<typeof buildDeliveries> = [];
  if (webhooks.length > 0 && activation.length > 0) {
    await host.ids.ensure();
    deliveries = buildDeliveries(activation, webhooks, view, () => host.ids.sequence());
  }

  await beforeWrite?.();
  const seq = await host.store.commit([
    ...slice.statements,
    ...(evaluation?.statements ?? []),
    ...deliveryInsertStatements(sql, deliveries),
    ...(slice.trailing ?? []),
  ]);
  return {
    deliveryIds: deliveries.map((d) => d.id),
    seq,
    realized: evaluation?.realized ?? 0,
    exited: evaluation?.exited ?? 0,
  };
}

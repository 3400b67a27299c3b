/** SQL for webhook deliveries (the outbox) and webhook destinations. */
import type { WebhookDestinationConfig } from "../../../shared/schemas/destinations";
import { bulk, jsonColumns } from "./json-chunks";

export interface DeliveryRow {
  id: string;
  destination: string;
  type: string;
  profileId: string;
  sequence: number;
  payload: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

const COLUMNS = `id, destination, type, profile_id AS profileId, sequence, payload, status, attempts, last_error AS lastError,
  next_attempt_at AS nextAttemptAt, created_at AS createdAt, updated_at AS updatedAt, delivered_at AS deliveredAt`;

/** A delivery about to be inserted: created (and due) `at`. */
export type NewDelivery = Pick<
  DeliveryRow,
  "id" | "destination" | "type" | "profileId" | "sequence" | "payload"
> & { at: number };

/**
 * A test delivery (`POST /v1/destinations/:name/test`): no profile, sequence 0, so a
 * receiver can tell it from real ones. Written straight to D1: it changes no profile.
 */
export async function insertTestDelivery(
  d1: D1Database,
  destination: string,
  now: number,
): Promise<string> {
  const id = `msg_${crypto.randomUUID().replace(/-/g, "")}`;
  const payload = JSON.stringify({
    type: "destination.test",
    timestamp: new Date(now).toISOString(),
    data: { destination, test: true },
  });
  await d1.batch(
    deliveryInsertStatements(d1, [
      { id, destination, type: "destination.test", profileId: "", sequence: 0, payload, at: now },
    ]),
  );
  return id;
}

/** Pending deliveries, inserted in the same batch as the change that caused them. */
export function deliveryInsertStatements(
  d1: D1Database,
  rows: readonly NewDelivery[],
): D1PreparedStatement[] {
  return bulk(
    d1,
    `INSERT OR IGNORE INTO webhook_deliveries (id, destination, type, profile_id, sequence, payload, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT ${jsonColumns(6)}, 'pending', 0, json_extract(value, '$[6]'), json_extract(value, '$[6]'), json_extract(value, '$[6]') FROM json_each(?1)`,
    rows.map((r) => [r.id, r.destination, r.type, r.profileId, r.sequence, r.payload, r.at]),
  );
}

export async function webhookDestinations(
  d1: D1Database,
): Promise<{ name: string; config: WebhookDestinationConfig }[]> {
  const { results } = await d1
    .prepare(`SELECT name, config FROM destinations WHERE type = 'webhook' ORDER BY name`)
    .all<{ name: string; config: string }>();
  return results.map((r) => ({
    name: r.name,
    config: JSON.parse(r.config) as WebhookDestinationConfig,
  }));
}

export async function deliveriesByIds(
  d1: D1Database,
  ids: readonly string[],
): Promise<DeliveryRow[]> {
  const batches = await d1.batch<DeliveryRow>(
    bulk(
      d1,
      `SELECT ${COLUMNS} FROM webhook_deliveries WHERE id IN (SELECT value FROM json_each(?1))`,
      ids,
    ),
  );
  return batches.flatMap((b) => b.results);
}

/**
 * Deliveries due now (pending or failed with their next attempt passed), round-robin across
 * destinations: the oldest of every destination, then the second oldest of each, …
 * Paused destinations are left out.
 */
export async function dueDeliveriesFair(
  d1: D1Database,
  now: number,
  paused: readonly string[],
  limit: number,
): Promise<{ id: string; destination: string }[]> {
  const { results } = await d1
    .prepare(
      `SELECT id, destination FROM (
         SELECT id, destination, next_attempt_at, row_number() OVER (PARTITION BY destination ORDER BY next_attempt_at, id) AS turn
         FROM webhook_deliveries
         WHERE status IN ('pending', 'failed') AND next_attempt_at <= ?1 AND destination NOT IN (SELECT value FROM json_each(?2)))
       ORDER BY turn, next_attempt_at LIMIT ?3`,
    )
    .bind(now, JSON.stringify(paused), limit)
    .all<{ id: string; destination: string }>();
  return results;
}

/** Pending and failed deliveries of one destination, for announcing them again (unpause). */
export async function openDeliveryIds(
  d1: D1Database,
  destination: string,
): Promise<{ id: string; destination: string }[]> {
  const { results } = await d1
    .prepare(
      `SELECT id, destination FROM webhook_deliveries WHERE destination = ?1 AND status IN ('pending', 'failed') ORDER BY next_attempt_at`,
    )
    .bind(destination)
    .all<{ id: string; destination: string }>();
  return results;
}

/** Deletes a destination's deliveries: how many were still to send (dropped) and how many were history. */
export async function deleteDeliveries(
  d1: D1Database,
  destination: string,
): Promise<{ dropped: number; removed: number }> {
  const counts = await d1
    .prepare(
      `SELECT sum(status IN ('pending', 'failed')) AS dropped, sum(status IN ('delivered', 'dead')) AS removed FROM webhook_deliveries WHERE destination = ?1`,
    )
    .bind(destination)
    .first<{ dropped: number | null; removed: number | null }>();
  await d1.prepare(`DELETE FROM webhook_deliveries WHERE destination = ?1`).bind(destination).run();
  return { dropped: counts?.dropped ?? 0, removed: counts?.removed ?? 0 };
}

export async function recordAttempt(
  d1: D1Database,
  id: string,
  outcome: { status: "delivered" | "failed" | "dead"; error?: string; nextAttemptAt?: number },
  now: number,
): Promise<void> {
  await d1
    .prepare(
      `UPDATE webhook_deliveries SET status = ?2, attempts = attempts + 1, last_error = coalesce(?3, last_error), next_attempt_at = coalesce(?4, next_attempt_at),
         updated_at = ?5, delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 ELSE delivered_at END
       WHERE id = ?1 AND status != 'delivered'`,
    )
    .bind(id, outcome.status, outcome.error ?? null, outcome.nextAttemptAt ?? null, now)
    .run();
}

export async function listDeliveries(
  d1: D1Database,
  destination: string,
  status: string | undefined,
  before: { t: number; id: string } | undefined,
  limit: number,
): Promise<DeliveryRow[]> {
  const { results } = await d1
    .prepare(
      `SELECT ${COLUMNS} FROM webhook_deliveries WHERE destination = ?1 AND (?2 IS NULL OR status = ?2)
         AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND id < ?4))
       ORDER BY created_at DESC, id DESC LIMIT ?5`,
    )
    .bind(destination, status ?? null, before?.t ?? null, before?.id ?? "", limit)
    .all<DeliveryRow>();
  return results;
}

/**
 * Redrive: up to `limit` deliveries of a destination in `status`, oldest first, made pending
 * and due now (attempts are kept); their ids, and whether more in that status are left.
 */
export async function requeueDeliveries(
  d1: D1Database,
  destination: string,
  status: "dead" | "failed",
  limit: number,
  now: number,
): Promise<{ ids: string[]; more: boolean }> {
  const [requeued, left] = await d1.batch<{ id?: string; more?: number }>([
    d1
      .prepare(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?4, updated_at = ?4
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE destination = ?1 AND status = ?2 ORDER BY created_at LIMIT ?3) RETURNING id`,
      )
      .bind(destination, status, limit, now),
    d1
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE destination = ?1 AND status = ?2) AS more`,
      )
      .bind(destination, status),
  ]);
  return { ids: requeued!.results.map((r) => r.id!), more: left!.results[0]?.more === 1 };
}

/** Sends one again: pending, due now (attempts are kept). */
export async function requeueDelivery(
  d1: D1Database,
  destination: string,
  id: string,
  now: number,
): Promise<boolean> {
  const result = await d1
    .prepare(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?3, updated_at = ?3 WHERE destination = ?1 AND id = ?2`,
    )
    .bind(destination, id, now)
    .run();
  return (result.meta.changes ?? 0) > 0;
}

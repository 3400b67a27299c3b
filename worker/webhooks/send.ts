/**
 * Sends webhook deliveries (the queue consumer): at least once, signed, with exponential
 * backoff and jitter for at least 24 hours, then dead-lettered. Failures that are retried:
 * network errors, time-outs, 5xx and 429 (honouring `Retry-After`). Another 4xx means the
 * receiver refuses this delivery: it is dead at once (retryable by hand through the API).
 * Runs outside the write lane, so a slow or failing receiver never slows ingestion.
 */
import { deliveriesByIds, dueDeliveryIds, recordAttempt, webhookDestinations, type DeliveryRow } from "../db/queries/webhooks";
import type { Bindings } from "../env";
import { signatureHeaders, signingSecretFor } from "./signing";
import { describeFetchError, outboundFetch, outboundPolicy, RedirectRefused, resolvedUrlProblem, retryAfterOf } from "../lib/outbound";

export interface WebhookMessage {
  kind: "webhook-deliver";
  ids: string[];
}

const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const FIRST_DELAY_MS = 5_000;
const MAX_DELAY_MS = 12 * 3600 * 1000;
const TIMEOUT_MS = 10_000;
const SEND_CONCURRENCY = 10;

/** Tests shrink every delay (and the 24 h window) with TESSERA_WEBHOOK_BACKOFF_SCALE. */
function scale(env: Bindings): number {
  const s = Number(env.TESSERA_WEBHOOK_BACKOFF_SCALE ?? 1);
  return Number.isFinite(s) && s > 0 ? s : 1;
}

/** The delay before attempt `attempts + 1`: 5 s doubling, capped at 12 h, ±20 % jitter. */
export function backoffMs(attempts: number, factor: number): number {
  const base = Math.min(FIRST_DELAY_MS * 2 ** attempts, MAX_DELAY_MS);
  return Math.round(base * (0.8 + Math.random() * 0.4) * factor);
}

type Outcome = { ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs?: number };

async function post(url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  try {
    const res = await outboundFetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.ok) return { ok: true };
    // A receiver cannot park a delivery past the longest backoff step (it would never be retried nor dead-lettered).
    const retryAfterMs = retryAfterOf(res.headers.get("retry-after"), MAX_DELAY_MS);
    // 408 (the receiver timed out reading), 429 and 5xx are worth another try; another 4xx is a refusal.
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    return { ok: false, retry, error: `HTTP ${res.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } catch (err) {
    if (err instanceof RedirectRefused) return { ok: false, retry: false, error: err.message };
    return { ok: false, retry: true, error: describeFetchError(err, TIMEOUT_MS / 1000) };
  }
}

/**
 * One POST: a single delivery (its own id and payload), or, for a destination with
 * `batchSize` > 1, up to that many as a JSON array under the first one's id — signed the
 * same way, so receivers verify it with the same library.
 */
function sends(deliveries: DeliveryRow[], batchSizeOf: (destination: string) => number): DeliveryRow[][] {
  const byDestination = new Map<string, DeliveryRow[]>();
  for (const d of deliveries) byDestination.set(d.destination, [...(byDestination.get(d.destination) ?? []), d]);
  const out: DeliveryRow[][] = [];
  for (const [destination, rows] of byDestination) {
    const size = batchSizeOf(destination);
    rows.sort((a, b) => a.sequence - b.sequence);
    for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  }
  return out;
}

/** Attempts the given deliveries; schedules the retries of those that fail. */
export async function deliver(env: Bindings, ids: readonly string[], now = Date.now()): Promise<void> {
  const deliveries = (await deliveriesByIds(env.DB, ids)).filter((d) => (d.status === "pending" || d.status === "failed") && d.nextAttemptAt <= now + 1000);
  if (deliveries.length === 0) return;
  const destinations = new Map((await webhookDestinations(env.DB)).map((d) => [d.name, d.config]));
  const factor = scale(env);
  const retries: { id: string; delayMs: number }[] = [];
  const record = async (d: DeliveryRow, outcome: Outcome, at: number) => {
    if (outcome.ok) {
      await recordAttempt(env.DB, d.id, { status: "delivered" }, at);
    } else if (!outcome.retry || at - d.createdAt >= RETRY_WINDOW_MS * factor) {
      await recordAttempt(env.DB, d.id, { status: "dead", error: outcome.error }, at);
    } else {
      const delayMs = outcome.retryAfterMs ?? backoffMs(d.attempts, factor);
      await recordAttempt(env.DB, d.id, { status: "failed", error: outcome.error, nextAttemptAt: at + delayMs }, at);
      retries.push({ id: d.id, delayMs });
    }
  };
  const attempt = async (group: DeliveryRow[]) => {
    const first = group[0]!;
    const config = destinations.get(first.destination);
    if (!config) {
      for (const d of group) await recordAttempt(env.DB, d.id, { status: "dead", error: "the destination was deleted" }, Date.now());
      return;
    }
    const problem = await resolvedUrlProblem(config.url, outboundPolicy(env));
    const secret = await signingSecretFor(env, first.destination, config.secretVersion ?? 1);
    const body = group.length === 1 ? first.payload : `[${group.map((d) => d.payload).join(",")}]`;
    const outcome: Outcome = problem
      ? { ok: false, retry: false, error: `refused URL: ${problem}` }
      : await post(config.url, await signatureHeaders(secret, first.id, Math.floor(Date.now() / 1000), body), body);
    const at = Date.now();
    for (const d of group) await record(d, outcome, at);
  };
  // A few at a time: one slow receiver does not hold the others back for long.
  const all = sends(deliveries, (name) => destinations.get(name)?.batchSize ?? 1);
  for (let i = 0; i < all.length; i += SEND_CONCURRENCY) await Promise.all(all.slice(i, i + SEND_CONCURRENCY).map(attempt));
  // Each retry is a delayed message; the cron sweep re-sends anything a lost message left due.
  for (const r of retries) {
    await env.WEBHOOK_QUEUE.send({ kind: "webhook-deliver", ids: [r.id] } satisfies WebhookMessage, { delaySeconds: Math.min(Math.ceil(r.delayMs / 1000), 43_200) });
  }
}

/** Cron: deliveries that are due but have no message in flight (a crash, a lost message). */
export async function sweepDueDeliveries(env: Bindings, now = Date.now()): Promise<number> {
  const ids = await dueDeliveryIds(env.DB, now, 500);
  for (let i = 0; i < ids.length; i += 50) await env.WEBHOOK_QUEUE.send({ kind: "webhook-deliver", ids: ids.slice(i, i + 50) } satisfies WebhookMessage);
  return ids.length;
}

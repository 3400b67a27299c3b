/**
 * Sends webhook deliveries (the queue consumer): at least once, signed, with exponential
 * backoff and jitter for at least 24 hours, then dead-lettered. Failures that are retried:
 * network errors, time-outs, 5xx and 429 (honouring `Retry-After`). Another 4xx means the
 * receiver refuses this delivery: it is dead at once (retryable by hand through the API).
 * Runs outside the write lane, so a slow or failing receiver never slows ingestion.
 */
import { deliveriesByIds, dueDeliveryIds, recordAttempt, webhookDestinations } from "../db/queries/webhooks";
import type { Bindings } from "../env";
import { signatureHeaders, signingSecretFor } from "./signing";
import { webhookUrlProblem } from "./url-guard";

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

export function allowInsecure(env: Bindings): boolean {
  return /^(1|true|yes)$/i.test(env.TESSERA_WEBHOOK_ALLOW_INSECURE ?? "");
}

/** The delay before attempt `attempts + 1`: 5 s doubling, capped at 12 h, ±20 % jitter. */
export function backoffMs(attempts: number, factor: number): number {
  const base = Math.min(FIRST_DELAY_MS * 2 ** attempts, MAX_DELAY_MS);
  return Math.round(base * (0.8 + Math.random() * 0.4) * factor);
}

type Outcome = { ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs?: number };

async function post(url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.ok) return { ok: true };
    const retryAfter = Number(res.headers.get("retry-after"));
    if (res.status === 429) return { ok: false, retry: true, error: "429 Too Many Requests", ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
    return { ok: false, retry: res.status >= 500, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, retry: true, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Attempts the given deliveries; schedules the retries of those that fail. */
export async function deliver(env: Bindings, ids: readonly string[], now = Date.now()): Promise<void> {
  const deliveries = (await deliveriesByIds(env.DB, ids)).filter((d) => (d.status === "pending" || d.status === "failed") && d.nextAttemptAt <= now + 1000);
  if (deliveries.length === 0) return;
  const destinations = new Map((await webhookDestinations(env.DB)).map((d) => [d.name, d.config]));
  const factor = scale(env);
  const retries: { id: string; delayMs: number }[] = [];
  const attempt = async (d: (typeof deliveries)[number]) => {
    const config = destinations.get(d.destination);
    if (!config) {
      await recordAttempt(env.DB, d.id, { status: "dead", error: "the destination was deleted" }, Date.now());
      return;
    }
    const problem = webhookUrlProblem(config.url, allowInsecure(env));
    const secret = await signingSecretFor(env, d.destination, config.secretVersion ?? 1);
    const outcome: Outcome = problem
      ? { ok: false, retry: false, error: `refused URL: ${problem}` }
      : await post(config.url, await signatureHeaders(secret, d.id, Math.floor(Date.now() / 1000), d.payload), d.payload);
    const at = Date.now();
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
  // A few at a time: one slow receiver does not hold the others back for long.
  for (let i = 0; i < deliveries.length; i += SEND_CONCURRENCY) await Promise.all(deliveries.slice(i, i + SEND_CONCURRENCY).map(attempt));
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

/**
 * Sends webhook deliveries: at least once, signed, with exponential backoff and jitter for
 * at least 24 hours, then dead-lettered. Failures that are retried: network errors,
 * time-outs, 5xx, 408 and 429 (honouring `Retry-After` up to the longest backoff step).
 * Another 4xx means the receiver refuses this delivery: it is dead at once (retryable by
 * hand through the API); a redirect is a refusal too (never followed). The queue consumer
 * only hands ids to each destination's lane (./lane.ts); the lane sends, so a slow or
 * unreachable receiver holds nothing but its own deliveries, and nothing of ingestion.
 */
import {
  type DeliveryRow,
  deliveriesByIds,
  dueDeliveriesFair,
  recordAttempt,
  webhookDestinations,
} from "../db/queries/webhooks";
import {
  describeFetchError,
  outboundFetch,
  outboundPolicy,
  RedirectRefused,
  resolvedUrlProblem,
  retryAfterOf,
} from "../lib/outbound";
import type { Bindings } from "../model/bindings";
import { signatureHeaders, signingSecretFor } from "./signing";

export interface WebhookMessage {
  kind: "webhook-deliver";
  ids: string[];
}

const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const FIRST_DELAY_MS = 5_000;
const MAX_DELAY_MS = 12 * 3600 * 1000;
const TIMEOUT_MS = 10_000;
const PER_DESTINATION_CONCURRENCY = 5;
const SWEEP_LIMIT = 10_000;

/** Tests shrink every delay (and the 24 h window) with TESSERA_WEBHOOK_BACKOFF_SCALE. */
function scale(env: Bindings): number {
  const s = Number(env.TESSERA_WEBHOOK_BACKOFF_SCALE ?? 1);
  return Number.isFinite(s) && s > 0 ? s : 1;
}

/** The delay before attempt `attempts + 1`: 5 s doubling, capped at 12 h, ±20 % jitter. */
function backoffMs(attempts: number, factor: number): number {
  const base = Math.min(FIRST_DELAY_MS * 2 ** attempts, MAX_DELAY_MS);
  return Math.round(base * (0.8 + Math.random() * 0.4) * factor);
}

/** `unreachable`: the receiver never answered (refused, unreachable, timed out). */
type Outcome =
  | { ok: true }
  | { ok: false; retry: boolean; error: string; retryAfterMs?: number; unreachable?: boolean };

async function post(url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  try {
    const res = await outboundFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok) return { ok: true };
    // A receiver cannot park a delivery past the longest backoff step (it would never be retried nor dead-lettered).
    const retryAfterMs = retryAfterOf(res.headers.get("retry-after"), MAX_DELAY_MS);
    // 408 (the receiver timed out reading), 429 and 5xx are worth another try; another 4xx is a refusal.
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    return {
      ok: false,
      retry,
      error: `HTTP ${res.status}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  } catch (err) {
    if (err instanceof RedirectRefused) return { ok: false, retry: false, error: err.message };
    return {
      ok: false,
      retry: true,
      unreachable: true,
      error: describeFetchError(err, TIMEOUT_MS / 1000),
    };
  }
}

/**
 * One POST: a single delivery (its own id and payload), or, for a destination with
 * `batchSize` > 1, up to that many as a JSON array under the first one's id — signed the
 * same way, so receivers verify it with the same library.
 */
function sendsOf(rows: DeliveryRow[], size: number): DeliveryRow[][] {
  rows.sort((a, b) => a.sequence - b.sequence);
  const out: DeliveryRow[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * A receiver that could not be reached (connection refused, time-out): until when its
 * deliveries wait without an attempt, and how many times in a row it failed. Kept by the
 * destination's lane (./lane.ts), so only that destination waits.
 */
export interface Reachability {
  until: number;
  strikes: number;
}

const COOL_OFF_MS = 5_000;
const MAX_COOL_OFF_MS = 5 * 60_000;

function cooledOff(previous: Reachability | undefined, at: number): Reachability {
  const strikes = (previous?.strikes ?? 0) + 1;
  return { until: at + Math.min(COOL_OFF_MS * 2 ** (strikes - 1), MAX_COOL_OFF_MS), strikes };
}

/** What one pass of a destination's lane left: whether its receiver is cooling off. */
interface LaneResult {
  reachability?: Reachability;
  /** Ids not attempted because the receiver is cooling off (retry at reachability.until). */
  waiting: string[];
}

/**
 * One destination's due deliveries: sent a few at a time (its own concurrency and time-out),
 * retries scheduled as delayed messages, an unreachable receiver cooled off (one probe at a
 * time while it is suspect). Runs in the destination's own lane, so nothing here waits on
 * another destination's receiver.
 */
export async function sendDestination(
  env: Bindings,
  name: string,
  ids: readonly string[],
  reachability: Reachability | undefined,
): Promise<LaneResult> {
  const now = Date.now();
  const rows = (await deliveriesByIds(env.DB, ids)).filter(
    (d) =>
      d.destination === name &&
      (d.status === "pending" || d.status === "failed") &&
      d.nextAttemptAt <= now + 1000,
  );
  if (rows.length === 0) return { reachability, waiting: [] };
  const config = (await webhookDestinations(env.DB)).find((d) => d.name === name)?.config;
  if (!config) {
    // Deleted destinations drop their deliveries; this covers a delete racing a send.
    for (const d of rows)
      await recordAttempt(
        env.DB,
        d.id,
        { status: "dead", error: "the destination was deleted" },
        Date.now(),
      );
    return { waiting: [] };
  }
  if (config.paused) return { reachability, waiting: [] }; // kept pending; unpausing announces them again
  const factor = scale(env);
  const retries: { id: string; delayMs: number }[] = [];
  const record = async (d: DeliveryRow, outcome: Outcome, at: number) => {
    if (outcome.ok) {
      await recordAttempt(env.DB, d.id, { status: "delivered" }, at);
    } else if (!outcome.retry || at - d.createdAt >= RETRY_WINDOW_MS * factor) {
      await recordAttempt(env.DB, d.id, { status: "dead", error: outcome.error }, at);
    } else {
      const delayMs = outcome.retryAfterMs ?? backoffMs(d.attempts, factor);
      await recordAttempt(
        env.DB,
        d.id,
        { status: "failed", error: outcome.error, nextAttemptAt: at + delayMs },
        at,
      );
      retries.push({ id: d.id, delayMs });
    }
  };
  const problem = await resolvedUrlProblem(config.url, outboundPolicy(env));
  const secret = await signingSecretFor(env, name, config.secretVersion ?? 1);
  const pending = sendsOf(rows, config.batchSize ?? 1);
  let state = reachability;
  let waiting: string[] = [];
  while (pending.length > 0) {
    if (state && state.until > Date.now()) {
      // Deliveries whose retry window has passed while their receiver stayed down are
      // dead-lettered now rather than waiting for a probe each.
      const at = Date.now();
      const expired = (d: DeliveryRow) => at - d.createdAt >= RETRY_WINDOW_MS * factor;
      const rest = pending.flat();
      for (const d of rest.filter(expired))
        await recordAttempt(
          env.DB,
          d.id,
          { status: "dead", error: d.lastError ?? "the receiver could not be reached" },
          at,
        );
      waiting = rest.filter((d) => !expired(d)).map((d) => d.id);
      break;
    }
    // While the receiver is suspect (it failed before), one probe at a time.
    const chunk = pending.splice(0, state ? 1 : PER_DESTINATION_CONCURRENCY);
    const outcomes = await Promise.all(
      chunk.map(async (group) => {
        const first = group[0]!;
        const body =
          group.length === 1 ? first.payload : `[${group.map((d) => d.payload).join(",")}]`;
        const outcome: Outcome = problem
          ? { ok: false, retry: false, error: `refused URL: ${problem}` }
          : await post(
              config.url,
              await signatureHeaders(secret, first.id, Math.floor(Date.now() / 1000), body),
              body,
            );
        const at = Date.now();
        for (const d of group) await record(d, outcome, at);
        return outcome;
      }),
    );
    if (outcomes.some((o) => !o.ok && o.unreachable)) state = cooledOff(state, Date.now());
    else if (outcomes.some((o) => o.ok)) state = undefined;
  }
  // Each retry is a delayed message; the cron sweep re-sends anything a lost message left due.
  await sendMessages(
    env,
    retries.map((r) => ({
      body: { kind: "webhook-deliver", ids: [r.id] },
      delaySeconds: Math.min(Math.ceil(r.delayMs / 1000), 43_200),
    })),
  );
  return { reachability: state, waiting };
}

/** Queue messages, in `sendBatch` calls of at most 100 (the Queues limit). */
async function sendMessages(
  env: Bindings,
  messages: MessageSendRequest<WebhookMessage>[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 100)
    await env.WEBHOOK_QUEUE.sendBatch(messages.slice(i, i + 100));
}

/** Delivery ids grouped by their destination. */
function idsByDestination(
  rows: Iterable<{ id: string; destination: string }>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.destination);
    if (list) list.push(r.id);
    else out.set(r.destination, [r.id]);
  }
  return out;
}

/**
 * The queue consumer's part: hands each destination's ids to that destination's lane
 * (a Durable Object, ./lane.ts) and returns at once — a slow or unreachable receiver holds
 * only its own lane, never the consumer nor another destination.
 */
export async function deliver(env: Bindings, ids: readonly string[]): Promise<void> {
  const open = (await deliveriesByIds(env.DB, ids)).filter(
    (d) => d.status === "pending" || d.status === "failed",
  );
  await Promise.all(
    [...idsByDestination(open)].map(([name, list]) =>
      env.WEBHOOK_LANE.get(env.WEBHOOK_LANE.idFromName(name)).enqueue(name, list),
    ),
  );
}

/** Messages for ids, 50 to a message, one destination per message. */
export async function announceDeliveries(
  env: Bindings,
  rows: readonly { id: string; destination: string }[],
): Promise<void> {
  const messages: MessageSendRequest<WebhookMessage>[] = [];
  for (const ids of idsByDestination(rows).values())
    for (let i = 0; i < ids.length; i += 50)
      messages.push({ body: { kind: "webhook-deliver", ids: ids.slice(i, i + 50) } });
  await sendMessages(env, messages);
}

/**
 * Cron: deliveries that are due but have no message in flight (a crash, a lost message),
 * taken round-robin across destinations (the oldest of each first), so one destination's
 * backlog never stands in front of another's, and up to SWEEP_LIMIT a run.
 */
export async function sweepDueDeliveries(env: Bindings, now = Date.now()): Promise<number> {
  const paused = (await webhookDestinations(env.DB))
    .filter((d) => d.config.paused)
    .map((d) => d.name);
  const rows = await dueDeliveriesFair(env.DB, now, paused, SWEEP_LIMIT);
  await announceDeliveries(env, rows);
  return rows.length;
}

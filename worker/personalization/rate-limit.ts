import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/**
 * Browser traffic (public keys: /v1/collect and the tracking API from analytics.js) is
 * rate limited per message, for every device a call names and for the site key, through
 * the Workers rate-limit bindings. The binding counts one unit per `limit()` call and has
 * no weight, so a call takes one unit per message; counting calls instead would let one
 * call carry hundreds of messages, and counting only the first message's device would let
 * a call aim them all at another.
 */
export async function rateLimitBrowser(
  c: Context<AppEnv>,
  keyId: string,
  messagesPerDevice: ReadonlyMap<string, number>,
): Promise<void> {
  let total = 0;
  for (const n of messagesPerDevice.values()) total += n;
  const deviceChecks = [...messagesPerDevice].map(([device, n]) =>
    takeUnits(c.env.COLLECT_DEVICE_LIMIT, `${keyId}:${device}`, n),
  );
  const [keyOk, ...devicesOk] = await Promise.all([
    takeUnits(c.env.COLLECT_KEY_LIMIT, keyId, total),
    ...deviceChecks,
  ]);
  if (!keyOk || devicesOk.includes(false)) {
    throw new ApiError(
      "rate_limited",
      `too many events from this ${keyOk ? "device" : "site key"}; retry in a minute`,
      {
        headers: { "Retry-After": "60" },
      },
    );
  }
}

/** Takes `units` from the limiter for `key` (in parallel: the binding answers each at once); false if any is refused. */
async function takeUnits(limiter: RateLimit, key: string, units: number): Promise<boolean> {
  const answers = await Promise.all(Array.from({ length: units }, () => limiter.limit({ key })));
  return answers.every((a) => a.success);
}

/** How many messages each device sends in one call. */
export function countByDevice(devices: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of devices) counts.set(d, (counts.get(d) ?? 0) + 1);
  return counts;
}

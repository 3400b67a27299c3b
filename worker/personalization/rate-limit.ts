import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/**
 * Browser traffic (public keys: /v1/collect and the tracking API from analytics.js) is
 * rate limited per device and per site key, through the Workers rate-limit bindings.
 */
export async function rateLimitBrowser(c: Context<AppEnv>, keyId: string, device: string): Promise<void> {
  const [perDevice, perKey] = await Promise.all([
    c.env.COLLECT_DEVICE_LIMIT.limit({ key: `${keyId}:${device}` }),
    c.env.COLLECT_KEY_LIMIT.limit({ key: keyId }),
  ]);
  if (!perDevice.success || !perKey.success) {
    throw new ApiError("rate_limited", `too many events from this ${perDevice.success ? "site key" : "device"}; retry in a minute`, {
      headers: { "Retry-After": "60" },
    });
  }
}

/**
 * Creating or changing a webhook destination: the URL must be one Tessera may call, a new
 * webhook gets a signing secret never handed out before (shown once), and unpausing
 * announces what waited.
 */
import type { WebhookDestinationConfig } from "../../shared/schemas/destinations";
import { type ConfigWrite, saveDestination } from "../config/service";
import { getDestination } from "../db/queries/exports";
import { openDeliveryIds } from "../db/queries/webhooks";
import { ApiError } from "../lib/errors";
import { outboundPolicy, resolvedUrlProblem } from "../lib/outbound";
import { announceDeliveries } from "./send";
import { signingSecretFor } from "./signing";

export async function putWebhookDestination(
  c: ConfigWrite,
  name: string,
  body: Omit<WebhookDestinationConfig, "secretVersion">,
) {
  const problem = await resolvedUrlProblem(body.url, outboundPolicy(c.env));
  if (problem)
    throw new ApiError("invalid_request", `webhook url ${problem}`, {
      details: [{ path: "url", message: problem }],
    });
  const existing = await getDestination(c.var.db, name);
  const previous =
    existing?.type === "webhook"
      ? (existing.config as unknown as WebhookDestinationConfig)
      : undefined;
  // A new webhook (or one that was another kind in between) gets a secret never handed
  // out before: the version is the creation time, and a rotation adds one.
  const config: WebhookDestinationConfig = {
    ...body,
    secretVersion: previous?.secretVersion ?? Date.now(),
  };
  const stored = await saveDestination(c, name, config);
  // Unpaused: what waited is announced again (the sweep would also find it).
  if (previous?.paused && !config.paused)
    await announceDeliveries(c.env, await openDeliveryIds(c.var.db.$client, name));
  // The secret is shown when the destination is created, never again (rotate with POST …/secret).
  const signingSecret = previous
    ? undefined
    : await signingSecretFor(c.env, name, config.secretVersion!);
  return { stored, signingSecret };
}

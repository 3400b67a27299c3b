/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`, keyed with the bytes of the `whsec_…` secret. Receivers verify
 * with any Standard Webhooks library.
 *
 * Signing secrets are derived, not stored: HMAC(TESSERA_SECRET, "webhook:<name>:<version>").
 * Rotating bumps the version; rotating TESSERA_SECRET rotates them all.
 */
import { base64ToBytes, bytesToBase64 } from "../../shared/base64url";
import { hmacSha256, serverSecret } from "../auth/signing";
import type { Bindings } from "../model/bindings";

export async function signingSecretFor(
  env: Bindings,
  destination: string,
  version: number,
): Promise<string> {
  return `whsec_${bytesToBase64(await hmacSha256(serverSecret(env), `webhook:${destination}:${version}`))}`;
}

export async function signatureHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  const key = await crypto.subtle.importKey(
    "raw",
    base64ToBytes(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      key,
      new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`),
    ),
  );
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${bytesToBase64(mac)}`,
  };
}

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`, keyed with the bytes of the `whsec_…` secret. Receivers verify
 * with any Standard Webhooks library.
 *
 * Signing secrets are derived, not stored: HMAC(TESSERA_SECRET, "webhook:<name>:<version>").
 * Rotating bumps the version; rotating TESSERA_SECRET rotates them all.
 */
import { base64urlToBytes } from "../../shared/base64url";
import { hmacSha256, serverSecret } from "../auth/signing";
import type { Bindings } from "../env";

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

export async function signingSecretFor(env: Bindings, destination: string, version: number): Promise<string> {
  return `whsec_${toBase64(await hmacSha256(serverSecret(env), `webhook:${destination}:${version}`))}`;
}

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const b64 = secret.replace(/^whsec_/, "");
  return base64urlToBytes(b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
}

export async function signatureHeaders(secret: string, id: string, timestampSeconds: number, body: string): Promise<Record<string, string>> {
  const key = await crypto.subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`)));
  return { "webhook-id": id, "webhook-timestamp": String(timestampSeconds), "webhook-signature": `v1,${toBase64(mac)}` };
}

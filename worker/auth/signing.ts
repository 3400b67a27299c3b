/**
 * Server-side secrets derived with HMAC from the `TESSERA_SECRET` Worker secret.
 *
 * A public key's site secret must be re-computable to verify identity tokens, yet the
 * spec says only hashes are stored. Deriving it (HMAC(TESSERA_SECRET, "site:" + keyId))
 * satisfies both: nothing secret is in D1, and rotating TESSERA_SECRET rotates them all.
 */

import { ApiError } from "../lib/errors";
import type { Bindings } from "../model/bindings";

const encoder = new TextEncoder();

import { bytesToBase64url as base64url } from "../../shared/base64url";

export { base64url };

/** An HMAC-SHA256 signer with the key imported once (importing per message is slow in bulk). */
export async function hmacSigner(
  secret: string,
): Promise<(message: string) => Promise<Uint8Array>> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return async (message) =>
    new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export async function hmacSha256(secret: string, message: string): Promise<Uint8Array> {
  return (await hmacSigner(secret))(message);
}

export function serverSecret(env: Bindings): string {
  const secret = env.TESSERA_SECRET ?? env.TESSERA_ADMIN_KEY;
  if (!secret) {
    throw new ApiError("internal_error", "TESSERA_SECRET is not configured on this deployment.");
  }
  return secret;
}

export async function siteSecretFor(env: Bindings, keyId: string): Promise<string> {
  return `ss_${base64url(await hmacSha256(serverSecret(env), `site:${keyId}`))}`;
}

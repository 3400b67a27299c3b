import type { Bindings } from "../env";
import { hmacSha256, serverSecret } from "../auth/signing";

/**
 * The salted hash an erased identity is kept as (SPEC: suppression list). HMAC with the
 * deployment's secret, so the list cannot be reversed by hashing guessed e-mail addresses.
 */
export async function suppressionHash(env: Bindings, identityKey: string): Promise<string> {
  const mac = await hmacSha256(serverSecret(env), `suppress:${identityKey}`);
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

import { toHex } from "../../shared/digest";
import { hmacSigner, serverSecret } from "../auth/signing";
import type { Bindings } from "../model/bindings";

/**
 * The salted hashes erased identities are kept as (SPEC: suppression list). HMAC with the
 * deployment's secret, so the list cannot be reversed by hashing guessed e-mail addresses.
 * Returns a hasher with the key imported once, for hashing many identities.
 */
export async function suppressionHasher(
  env: Bindings,
): Promise<(identityKey: string) => Promise<string>> {
  const sign = await hmacSigner(serverSecret(env));
  return async (identityKey) => toHex(await sign(`suppress:${identityKey}`));
}

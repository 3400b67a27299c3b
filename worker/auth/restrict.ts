import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/**
 * A token minted for one identity (POST /v1/tokens with `identity`) may read only that
 * person's profile: `identities` are the `ns:value` keys of the profile being read.
 */
export function assertMayReadProfile(c: Context<AppEnv>, identities: readonly string[]): void {
  const restricted = c.get("principal")?.identity;
  if (restricted && !identities.includes(restricted)) {
    throw new ApiError("forbidden", "This token may only read the profile of its identity.");
  }
}

import type { Context } from "hono";
import { recordAudit } from "../db/queries/audit";
import type { AppEnv } from "../env";

/**
 * Writes an audit entry for a profile read by a secret key or token (SPEC "audit"). The
 * write runs after the response (waitUntil), so reads don't wait on D1's writer.
 */
export function auditRead(
  c: Context<AppEnv>,
  action: string,
  profileId: string | null,
  fields: string[],
): void {
  const principal = c.get("principal");
  if (!principal || principal.kind === "public") return;
  const keyId = principal.tokenId
    ? `${principal.keyId}/token/${principal.tokenId}`
    : principal.keyId;
  const write = recordAudit(c.var.db, { keyId, action, profileId, fields }).catch((err: unknown) =>
    console.error(`audit write failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  try {
    c.executionCtx.waitUntil(write);
  } catch {
    // No execution context (app.request in unit tests): the promise still completes.
  }
}

/**
 * At most a few reports at a time per key (SPEC §2 reporting; a report reads a lot, and the
 * database is shared with every write). The count lives in a small Durable Object per key,
 * so it holds across the isolates and locations a deployment runs in; a slot is a lease,
 * so a report whose isolate died frees its slot when the lease runs out.
 */
import { DurableObject } from "cloudflare:workers";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import type { Bindings } from "../model/bindings";

/** Reports (message, event and journey reports, data-view reports) one key may run at once. */
const REPORTS_PER_KEY = 2;
/** A slot is released by the report; this is only for one whose isolate died. */
const LEASE_MS = 120_000;

export class ReadGate extends DurableObject<Bindings> {
  private readonly leases = new Map<string, number>();

  acquire(max: number, leaseMs: number): string | null {
    const now = Date.now();
    for (const [token, until] of this.leases) if (until <= now) this.leases.delete(token);
    if (this.leases.size >= max) return null;
    const token = crypto.randomUUID();
    this.leases.set(token, now + leaseMs);
    return token;
  }

  release(token: string): void {
    this.leases.delete(token);
  }
}

/** Middleware for the report routes: a slot for the call's key, or 429 with Retry-After. */
export const reportSlot = createMiddleware<AppEnv>(async (c, next) => {
  const gate = c.env.READ_GATE.get(c.env.READ_GATE.idFromName(c.var.principal.keyId));
  const token = await gate.acquire(REPORTS_PER_KEY, LEASE_MS);
  if (!token) {
    throw new ApiError(
      "rate_limited",
      `at most ${REPORTS_PER_KEY} reports run at once per key; retry when one has finished`,
      { headers: { "Retry-After": "2" } },
    );
  }
  try {
    await next();
  } finally {
    await gate.release(token);
  }
});

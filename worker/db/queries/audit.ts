import { desc, lt } from "drizzle-orm";
import type { Db } from "../client";
import { auditLog } from "../schema";

type AuditRow = typeof auditLog.$inferSelect;

export async function recordAudit(
  db: Db,
  entry: { keyId: string; action: string; profileId: string | null; fields: string[] },
): Promise<void> {
  await db.insert(auditLog).values({ ...entry, at: Date.now() });
}

/** Newest first; `before` is the id cursor. */
export async function listAudit(db: Db, limit: number, before?: number): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(before ? lt(auditLog.id, before) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(limit);
}

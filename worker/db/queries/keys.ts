import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { apiKeys } from "../schema";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertApiKey(db: Db, row: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  const [stored] = await db.insert(apiKeys).values(row).returning();
  return stored!;
}

export async function findApiKeyByHash(db: Db, keyHash: string): Promise<ApiKeyRow | undefined> {
  return db.query.apiKeys.findFirst({ where: eq(apiKeys.keyHash, keyHash) });
}

export async function listApiKeys(db: Db): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), apiKeys.id);
}

/** Deletes a key; true when it existed. The key stops working on the next request. */
export async function deleteApiKey(db: Db, id: string): Promise<boolean> {
  const deleted = await db.delete(apiKeys).where(and(eq(apiKeys.id, id))).returning({ id: apiKeys.id });
  return deleted.length > 0;
}

export async function findApiKeyById(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.query.apiKeys.findFirst({ where: eq(apiKeys.id, id) });
}

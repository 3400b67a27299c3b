import { asc, eq } from "drizzle-orm";
import type { NamespaceRules, NormalizeRule } from "../../../shared/identity/normalize";
import { cached, CACHE_KEYS, invalidate } from "../../lib/isolate-cache";
import type { Db } from "../client";
import { namespaces, settings } from "../schema";

export type NamespaceRow = typeof namespaces.$inferSelect;

export function toRules(row: NamespaceRow): NamespaceRules {
  return {
    code: row.code,
    normalize: row.normalize as NormalizeRule,
    unique: row.unique,
    priority: row.priority,
    maxPerGraph: row.unique ? 1 : row.maxPerGraph,
    blockedValues: row.blockedValues,
  };
}

export async function listNamespaces(db: Db): Promise<NamespaceRow[]> {
  return db.select().from(namespaces).orderBy(asc(namespaces.code));
}

export async function getNamespace(db: Db, code: string): Promise<NamespaceRow | undefined> {
  return db.query.namespaces.findFirst({ where: eq(namespaces.code, code) });
}

export async function upsertNamespace(
  db: Db,
  row: Omit<typeof namespaces.$inferInsert, "createdAt" | "updatedAt" | "builtIn">,
): Promise<NamespaceRow> {
  const now = Date.now();
  invalidate(CACHE_KEYS.identityConfig);
  const [stored] = await db
    .insert(namespaces)
    .values({ ...row, builtIn: false, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: namespaces.code,
      set: {
        description: row.description,
        normalize: row.normalize,
        unique: row.unique,
        priority: row.priority,
        maxPerGraph: row.maxPerGraph,
        blockedValues: row.blockedValues,
        pseudonymous: row.pseudonymous,
        updatedAt: now,
      },
    })
    .returning();
  return stored!;
}

export async function getSetting<T>(db: Db, key: string): Promise<T | undefined> {
  const row = await db.query.settings.findFirst({ where: eq(settings.key, key) });
  return row?.value as T | undefined;
}

/** A setting read on hot paths (context, collect), cached per isolate like the identity config. */
export function getCachedSetting<T>(db: Db, key: string): Promise<T | undefined> {
  return cached(`setting:${key}`, () => getSetting<T>(db, key));
}

export async function putSetting(db: Db, key: string, value: unknown): Promise<void> {
  const now = Date.now();
  invalidate(CACHE_KEYS.identityConfig, `setting:${key}`);
  await db
    .insert(settings)
    .values({ key, value, updatedAt: now })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } });
}


import { asc, eq } from "drizzle-orm";
import type { NamespaceRules, NormalizeRule } from "../../../shared/identity/normalize";
import type { Db } from "../client";
import { namespaces } from "../schema";

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

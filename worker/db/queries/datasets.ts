import { asc, eq } from "drizzle-orm";
import type { Db } from "../client";
import { datasets } from "../schema";

export type DatasetRow = typeof datasets.$inferSelect;

export async function listDatasets(db: Db): Promise<DatasetRow[]> {
  return db.select().from(datasets).orderBy(asc(datasets.name));
}

export async function getDataset(db: Db, name: string): Promise<DatasetRow | undefined> {
  return db.query.datasets.findFirst({ where: eq(datasets.name, name) });
}

export async function upsertDataset(
  db: Db,
  row: {
    name: string;
    kind: string;
    description?: string | null;
    schema?: Record<string, unknown> | null;
    ttlDays?: number | null;
  },
): Promise<{ row: DatasetRow; created: boolean }> {
  const now = Date.now();
  const existing = await getDataset(db, row.name);
  const [stored] = await db
    .insert(datasets)
    .values({
      name: row.name,
      kind: row.kind,
      description: row.description ?? null,
      schema: row.schema ?? null,
      ttlDays: row.ttlDays ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: datasets.name,
      set: {
        kind: row.kind,
        description: row.description ?? null,
        schema: row.schema ?? null,
        ttlDays: row.ttlDays ?? null,
        updatedAt: now,
      },
    })
    .returning();
  return { row: stored!, created: !existing };
}

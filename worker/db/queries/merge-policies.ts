import { asc } from "drizzle-orm";
import type { MergePolicy } from "../../model/profiles";
import type { Db } from "../client";
import { mergePolicies } from "../schema";

export type MergePolicyRow = typeof mergePolicies.$inferSelect;

export function toPolicy(row: MergePolicyRow): MergePolicy {
  return {
    name: row.name,
    type: row.type as MergePolicy["type"],
    datasets: row.datasets,
    idStitching: row.idStitching as MergePolicy["idStitching"],
  };
}

export async function listMergePolicies(db: Db): Promise<MergePolicyRow[]> {
  return db.select().from(mergePolicies).orderBy(asc(mergePolicies.name));
}

/** Creates or replaces a policy; making it the default clears the flag elsewhere (one batch). */
export async function putMergePolicy(
  db: Db,
  policy: MergePolicy & { isDefault: boolean },
): Promise<MergePolicyRow> {
  const now = Date.now();
  const upsert = db
    .insert(mergePolicies)
    .values({ ...policy, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: mergePolicies.name,
      set: {
        type: policy.type,
        datasets: policy.datasets,
        idStitching: policy.idStitching,
        isDefault: policy.isDefault,
        updatedAt: now,
      },
    })
    .returning();
  if (policy.isDefault) {
    const [, rows] = await db.batch([db.update(mergePolicies).set({ isDefault: false }), upsert]);
    return rows[0]!;
  }
  const [row] = await upsert;
  return row!;
}

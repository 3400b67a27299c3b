/**
 * The configuration service: every cached configuration read, and every configuration
 * write paired with forgetting what this isolate cached. Routes and domain modules read
 * and change configuration here; the query modules below it are plain SQL.
 *
 * (The identity configuration — namespaces and graph settings turned into graph rules —
 * is read in graph/identity-config.ts through the same cache and keys.)
 */

import type { Rule } from "../../shared/schemas/segments";
import { loadComputedDefs } from "../computed/definitions";
import type { Db } from "../db/client";
import { deleteComputed, putComputed } from "../db/queries/computed";
import { type DatasetRow, listDatasets, upsertDataset } from "../db/queries/datasets";
import {
  listMergePolicies,
  type MergePolicyRow,
  putMergePolicy,
} from "../db/queries/merge-policies";
import { upsertNamespace } from "../db/queries/namespaces";
import { loadSegmentDefs, putSegment } from "../db/queries/segments";
import {
  getSetting,
  putSetting,
  type SettingName,
  type SettingValues,
} from "../db/queries/settings";
import type { MergePolicy } from "../model/profiles";
import { configChanged, readConfig } from "./cache";

/** Datasets as every ingest call needs them. */
export function cachedDatasets(db: Db): Promise<DatasetRow[]> {
  return readConfig("datasets", () => listDatasets(db));
}

/** The named merge policy, or the default one when `name` is undefined. */
export async function findMergePolicy(db: Db, name?: string): Promise<MergePolicyRow | undefined> {
  const all = await readConfig("mergePolicies", () => listMergePolicies(db));
  return all.find((p) => (name ? p.name === name : p.isDefault));
}

/** A setting read on hot paths (context, collect). */
export function getCachedSetting<K extends SettingName>(
  db: Db,
  name: K,
): Promise<SettingValues[K] | undefined> {
  return readConfig("settings", () => getSetting(db, name), name);
}

/** Segment definitions, for the visitor context. */
export function cachedSegmentDefs(d1: D1Database) {
  return readConfig("segmentDefs", () => loadSegmentDefs(d1));
}

/** Computed attribute definitions (their names and versions, for a lookup's provenance). */
export function cachedComputedDefs(d1: D1Database) {
  return readConfig("computedDefs", () => loadComputedDefs(d1));
}

export async function saveComputed(db: Db, row: Parameters<typeof putComputed>[1]) {
  const saved = await putComputed(db, row);
  configChanged("computedDefs");
  return saved;
}

export async function removeComputed(db: Db, id: string) {
  const removed = await deleteComputed(db, id);
  configChanged("computedDefs");
  return removed;
}

export async function saveDataset(db: Db, row: Parameters<typeof upsertDataset>[1]) {
  const saved = await upsertDataset(db, row);
  configChanged("datasets");
  return saved;
}

export async function saveNamespace(db: Db, row: Parameters<typeof upsertNamespace>[1]) {
  const saved = await upsertNamespace(db, row);
  configChanged("identityConfig");
  return saved;
}

export async function saveMergePolicy(db: Db, policy: MergePolicy & { isDefault: boolean }) {
  const saved = await putMergePolicy(db, policy);
  configChanged("mergePolicies");
  return saved;
}

export async function saveSegment(
  db: Db,
  row: { id: string; name: string; rule: Rule; public: boolean; totalProfiles: number },
) {
  const saved = await putSegment(db, row);
  configChanged("segmentDefs");
  return saved;
}

export async function saveSetting<K extends SettingName>(
  db: Db,
  name: K,
  value: SettingValues[K],
): Promise<void> {
  await putSetting(db, name, value);
  // The graph setting is part of the identity configuration.
  configChanged("settings", ...(name === "graph" ? (["identityConfig"] as const) : []));
}

/**
 * The configuration service: every cached configuration read, and every configuration
 * write. A write goes one way: save, forget what this isolate cached, and tell the writer
 * when it is something the writer keeps its own copy of, so no change reaches one and not
 * the other. Routes and domain modules read and change configuration here; the query modules
 * below it are plain SQL.
 *
 * (The identity configuration — namespaces and graph settings turned into graph rules —
 * is read in graph/identity-config.ts through the same cache and keys.)
 */

import type {
  DestinationConfig,
  WebhookDestinationConfig,
} from "../../shared/schemas/destinations";
import type { Rule } from "../../shared/schemas/segments";
import { loadComputedDefs } from "../computed/definitions";
import type { Db } from "../db/client";
import { deleteComputed, putComputed } from "../db/queries/computed";
import { type DatasetRow, listDatasets, upsertDataset } from "../db/queries/datasets";
import { deleteDestination, putDestination } from "../db/queries/exports";
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
import type { Bindings } from "../model/bindings";
import type { MergePolicy } from "../model/profiles";
import { configChanged as configChangedEverywhere } from "../writer/client";
import { type ConfigKey, configChanged, readConfig } from "./cache";

/** What a configuration write needs: the database, and the app's bindings to reach the writer. */
export interface ConfigWrite {
  env: Bindings;
  var: { db: Db };
}

/**
 * After a write: this isolate forgets `keys`; when the writer reads what changed (graph
 * rules, segments, computed definitions, webhook destinations, consent settings: see
 * writer/state.ts), it forgets all it read too.
 */
async function changed(
  c: ConfigWrite,
  writerReadsIt: boolean,
  ...keys: ConfigKey[]
): Promise<void> {
  configChanged(...keys);
  if (writerReadsIt) await configChangedEverywhere(c.env);
}

/** The settings the writer applies: the graph limits and the consent rules. */
const WRITER_SETTINGS: ReadonlySet<SettingName> = new Set(["graph", "consent"]);

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

/** The writer counts new events under the new definition from its next write on. */
export async function saveComputed(c: ConfigWrite, row: Parameters<typeof putComputed>[1]) {
  const saved = await putComputed(c.var.db, row);
  await changed(c, true, "computedDefs");
  return saved;
}

export async function removeComputed(c: ConfigWrite, id: string) {
  const removed = await deleteComputed(c.var.db, id);
  await changed(c, true, "computedDefs");
  return removed;
}

export async function saveDataset(c: ConfigWrite, row: Parameters<typeof upsertDataset>[1]) {
  const saved = await upsertDataset(c.var.db, row);
  await changed(c, false, "datasets");
  return saved;
}

/** The writer owns the graph rules it applies: the next write uses the new ones. */
export async function saveNamespace(c: ConfigWrite, row: Parameters<typeof upsertNamespace>[1]) {
  const saved = await upsertNamespace(c.var.db, row);
  await changed(c, true, "identityConfig");
  return saved;
}

export async function saveMergePolicy(
  c: ConfigWrite,
  policy: MergePolicy & { isDefault: boolean },
) {
  const saved = await putMergePolicy(c.var.db, policy);
  await changed(c, false, "mergePolicies");
  return saved;
}

/** Streaming evaluation in the writer uses the new rule from the next write on. */
export async function saveSegment(
  c: ConfigWrite,
  row: { id: string; name: string; rule: Rule; public: boolean; totalProfiles: number },
) {
  const saved = await putSegment(c.var.db, row);
  await changed(c, true, "segmentDefs");
  return saved;
}

export async function saveSetting<K extends SettingName>(
  c: ConfigWrite,
  name: K,
  value: SettingValues[K],
): Promise<void> {
  await putSetting(c.var.db, name, value);
  // The graph setting is part of the identity configuration.
  await changed(
    c,
    WRITER_SETTINGS.has(name),
    "settings",
    ...(name === "graph" ? (["identityConfig"] as const) : []),
  );
}

/** The writer creates webhook deliveries from the destinations it read: it reads them again. */
export async function saveDestination(
  c: ConfigWrite,
  name: string,
  config: DestinationConfig | WebhookDestinationConfig,
) {
  const saved = await putDestination(c.var.db, name, config);
  await changed(c, true);
  return saved;
}

export async function removeDestination(c: ConfigWrite, name: string) {
  const removed = await deleteDestination(c.var.db, name);
  await changed(c, true);
  return removed;
}

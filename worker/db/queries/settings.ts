/**
 * Settings: one JSON document per name in the `settings` table. Each name has its own
 * value type, so a reader cannot ask for the wrong shape.
 */
import { eq } from "drizzle-orm";
import type { RetentionSettings } from "../../../shared/schemas/config";
import type { ConsentSettings } from "../../../shared/schemas/consent";
import type { Db } from "../client";
import { settings } from "../schema";

export interface SettingValues {
  /** Graph limits: identities per profile (default 50). */
  graph: { maxIdentities?: number };
  /** Attributes a public key's visitor context may show (allow-list). */
  personalization: { attributes?: string[] };
  /** Event types browsers may send to /v1/collect. */
  collect: { types?: string[] };
  /** TTLs of pseudonymous profiles and where expired events are archived. */
  retention: RetentionSettings;
  /** Consent purposes, the conflict rule and the tracking-category map (SPEC §8). */
  consent: ConsentSettings;
  /**
   * Set once, when the first writer starts: the index salt (random; which bucket an
   * identity's index entry lives in) and the number of owner shards (`TESSERA_SHARDS`;
   * absent in deployments that began before shards: one).
   */
  placement: { salt: string; shards?: number };
  /** The demo shop's public key (TESSERA_DEMO only). */
  demo: { keyId: string; key: string };
}
export type SettingName = keyof SettingValues;

export async function getSetting<K extends SettingName>(
  db: Db,
  name: K,
): Promise<SettingValues[K] | undefined> {
  const row = await db.query.settings.findFirst({ where: eq(settings.key, name) });
  return row?.value as SettingValues[K] | undefined;
}

export async function putSetting<K extends SettingName>(
  db: Db,
  name: K,
  value: SettingValues[K],
): Promise<void> {
  const now = Date.now();
  await db
    .insert(settings)
    .values({ key: name, value, updatedAt: now })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } });
}

/** Stores `value` unless the setting exists; the stored value either way (two first callers agree). */
export async function settingOnce<K extends SettingName>(
  db: Db,
  name: K,
  value: SettingValues[K],
): Promise<SettingValues[K]> {
  await db
    .insert(settings)
    .values({ key: name, value, updatedAt: Date.now() })
    .onConflictDoNothing({ target: settings.key });
  return (await getSetting(db, name))!;
}

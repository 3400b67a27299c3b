/**
 * The per-isolate configuration cache: configuration that changes rarely and is read on
 * every request (namespaces, graph settings, merge policies, datasets, segment
 * definitions, settings). Each D1 round trip from the edge to the primary costs
 * milliseconds; this saves two or three per call.
 *
 * Every cached thing has one typed key and its own freshness in CONFIG_TTL_MS, here and
 * nowhere else. The functions that write configuration call `configChanged(key)`, so the
 * isolate that made a change sees it at once; other isolates see it within that key's
 * TTL. API keys are never cached: a deleted key must stop working at once.
 */
const CONFIG_TTL_MS = {
  /** Namespaces and the `graph` setting: identity normalization and graph rules. */
  identityConfig: 5_000,
  mergePolicies: 5_000,
  /** Every ingest call validates against them. */
  datasets: 5_000,
  /** Segment definitions for the visitor context (GET /v1/context): shorter, a new public segment shows soon. */
  segmentDefs: 2_000,
  /** Computed attribute names and versions, for a lookup's provenance. */
  computedDefs: 5_000,
  /** Settings read on hot paths (personalization allow-list, collect types). */
  settings: 5_000,
  /** The profile dashboard's figures: expensive, and a minute old is fine. */
  profileMetrics: 60_000,
} as const;

export type ConfigKey = keyof typeof CONFIG_TTL_MS;
/** An entry: the key itself, or a key with a part (`settings` per setting name). */
type EntryKey = ConfigKey | `${ConfigKey}:${string}`;

const entries = new Map<EntryKey, { expires: number; value: Promise<unknown> }>();

/** The cached value of `key` (`part` names one of several, e.g. a setting), loading it when stale. */
export function readConfig<T>(key: ConfigKey, load: () => Promise<T>, part?: string): Promise<T> {
  const entry: EntryKey = part === undefined ? key : `${key}:${part}`;
  const now = Date.now();
  const hit = entries.get(entry);
  if (hit && hit.expires > now) return hit.value as Promise<T>;
  const value = load();
  entries.set(entry, { expires: now + CONFIG_TTL_MS[key], value });
  // A failed load is not remembered.
  value.catch(() => entries.delete(entry));
  return value;
}

/** Forgets `keys` (with all their parts) in this isolate: called by every configuration write. */
export function configChanged(...keys: ConfigKey[]): void {
  for (const entry of [...entries.keys()]) {
    if (keys.some((key) => entry === key || entry.startsWith(`${key}:`))) entries.delete(entry);
  }
}

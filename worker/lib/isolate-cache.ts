/**
 * A tiny per-isolate cache for configuration that changes rarely and is read on every
 * request (namespaces, graph settings, merge policies). Each D1 round trip from the edge
 * to the primary costs milliseconds; this saves two or three per lookup.
 *
 * (Datasets too: every ingest call validates against them.)
 * Writes through the API clear the entry in the isolate that made them, so a client sees
 * its own change at once; other isolates see it within TTL_MS. Keys are never cached:
 * a deleted key must stop working at once.
 */
export const TTL_MS = 5_000;

const entries = new Map<string, { expires: number; value: Promise<unknown> }>();

export function cached<T>(key: string, load: () => Promise<T>, ttlMs = TTL_MS): Promise<T> {
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.expires > now) return hit.value as Promise<T>;
  const value = load();
  entries.set(key, { expires: now + ttlMs, value });
  // A failed load is not remembered.
  value.catch(() => entries.delete(key));
  return value;
}

export function invalidate(...keys: string[]): void {
  for (const key of keys) entries.delete(key);
}

export const CACHE_KEYS = { identityConfig: "identity-config", mergePolicies: "merge-policies", datasets: "datasets" } as const;

/**
 * Applies a record's attribute patch to a fragment (SPEC: "attributes deep-merge into the
 * fragment; a null value removes that attribute"). Objects merge key by key; arrays and
 * scalars are leaves and replace. Returns a new tree; inputs are not changed.
 */
export function applyPatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete out[key];
    } else if (isPlainObject(value)) {
      const base = isPlainObject(out[key]) ? (out[key] as Record<string, unknown>) : {};
      out[key] = applyPatch(base, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

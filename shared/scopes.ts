/**
 * API key scopes (SPEC §2 Auth). `admin` implies every other scope.
 * Shared so that the console and the CLI can show and request them by name.
 */
export const SCOPES = [
  "ingest",
  "profiles:read",
  "profiles:write",
  "profiles:delete",
  "segments",
  "admin",
] as const;

export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a holder of `granted` may use something that needs `needed`. */
export function grants(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes("admin") || granted.includes(needed);
}

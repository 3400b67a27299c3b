/**
 * Identity normalization (SPEC §1 "Namespaces and normalization"). Runs on ingest and on
 * lookup, so `John.Greene@Luma.com` and ` john.greene@luma.com` are one identity.
 */
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/min";
import { RE2JS } from "re2js";
import { isWellFormed } from "../attribute-tree";

export type NormalizeRule = "email" | "phone" | "lowercase" | "trim" | "none";
export const NORMALIZE_RULES: readonly NormalizeRule[] = [
  "email",
  "phone",
  "lowercase",
  "trim",
  "none",
];

export interface NamespaceRules {
  code: string;
  normalize: NormalizeRule;
  unique: boolean;
  priority: number;
  /** null: only the graph's maxIdentities applies. A unique namespace always has 1. */
  maxPerGraph: number | null;
  /** Additions to DEFAULT_BLOCKED_VALUES: exact strings or `/regex/`. */
  blockedValues: string[];
}

/** Junk ids that are never identities, for every namespace (SPEC defaults). */
const DEFAULT_BLOCKED_VALUES = [
  "",
  "null",
  "undefined",
  "anonymous",
  "unknown",
  "none",
  "n/a",
  "-1",
  "/^[0-]*$/",
] as const;

/** A device id (SPEC §2 conventions): 16–64 characters of [A-Za-z0-9_-]. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** Control, invisible formatting and line/paragraph separator characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const MAX_IDENTITY_LENGTH = 256;

type NormalizeResult =
  | { ok: true; value: string }
  | { ok: false; code: "invalid_identity" | "blocked_identity"; message: string };

/** Longest `/regex/` an admin may add to a block list. */
const MAX_BLOCKED_PATTERN_LENGTH = 200;

interface Pattern {
  test(text: string): boolean;
}

/**
 * An admin-supplied `/regex/` runs on RE2 (re2js): linear time whatever the pattern, so
 * `/^(a+)+$/` cannot stall the single writer's path. Only the `i` flag is honoured.
 */
function blockedPattern(entry: string): Pattern | undefined {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(entry);
  if (!m || entry.length > MAX_BLOCKED_PATTERN_LENGTH) return undefined;
  try {
    const re = RE2JS.compile(m[1]!, m[2]!.includes("i") ? RE2JS.CASE_INSENSITIVE : 0);
    return { test: (text) => re.matcher(text).find() };
  } catch {
    return undefined;
  }
}

interface BlockList {
  exact: Set<string>;
  patterns: Pattern[];
}

function compileBlockList(
  entries: readonly string[],
  compile: (entry: string) => Pattern | undefined,
): BlockList {
  const list: BlockList = { exact: new Set(), patterns: [] };
  for (const entry of entries) {
    const pattern = compile(entry);
    if (pattern) list.patterns.push(pattern);
    else list.exact.add(entry.toLowerCase());
  }
  return list;
}

// Compiled once: ingest checks every identity of every item against these. The defaults
// are ours and safe, so they keep the native engine.
const DEFAULT_BLOCK_LIST = compileBlockList(DEFAULT_BLOCKED_VALUES, (entry) =>
  entry === "/^[0-]*$/" ? /^[0-]*$/ : undefined,
);
const compiledExtras = new WeakMap<readonly string[], BlockList>();

function matches(list: BlockList, candidate: string, trimmed: string): boolean {
  return (
    list.exact.has(candidate) || list.patterns.some((p) => p.test(candidate) || p.test(trimmed))
  );
}

/** Whether a value is junk under the defaults plus the namespace's own list. */
export function isBlocked(value: string, extra: readonly string[] = []): boolean {
  const trimmed = value.trim();
  const candidate = trimmed.toLowerCase();
  if (matches(DEFAULT_BLOCK_LIST, candidate, trimmed)) return true;
  if (extra.length === 0) return false;
  let list = compiledExtras.get(extra);
  if (!list) compiledExtras.set(extra, (list = compileBlockList(extra, blockedPattern)));
  return matches(list, candidate, trimmed);
}

export function isValidBlockedEntry(entry: string): boolean {
  return !entry.startsWith("/") || blockedPattern(entry) !== undefined;
}

function applyRule(rule: NormalizeRule, raw: string, phoneRegion: string): string | undefined {
  switch (rule) {
    case "email": {
      const v = raw.trim().toLowerCase();
      return EMAIL_PATTERN.test(v) ? v : undefined;
    }
    case "phone": {
      const parsed = parsePhoneNumberFromString(raw.trim(), phoneRegion as CountryCode);
      return parsed?.isValid() ? parsed.number : undefined;
    }
    case "lowercase":
      return raw.trim().toLowerCase();
    case "trim":
      return raw.trim();
    case "none":
      return raw;
  }
}

/**
 * Normalizes one identity value under its namespace's rules; rejects invalid and blocked
 * values with the spec's codes. `phoneRegion` is the default region for national numbers.
 */
export function normalizeIdentity(
  ns: NamespaceRules,
  raw: unknown,
  phoneRegion = "NL",
): NormalizeResult {
  if (typeof raw !== "string" && typeof raw !== "number") {
    return { ok: false, code: "invalid_identity", message: `${ns.code} id must be a string` };
  }
  const input = String(raw);
  // Stored exactly as sent or rejected: SQLite would turn a lone surrogate into U+FFFD, and
  // invisible characters make two ids that look the same (SPEC §2 Ingest). Whitespace
  // that the namespace's rule trims away is not part of the id and so not checked.
  if (!isWellFormed(input)) {
    return {
      ok: false,
      code: "invalid_identity",
      message: `${ns.code} id is not valid Unicode (it holds a lone surrogate)`,
    };
  }
  if (isBlocked(input, ns.blockedValues)) {
    return {
      ok: false,
      code: "blocked_identity",
      message: `"${input}" is a blocked ${ns.code} value, never an identity`,
    };
  }
  const value = applyRule(ns.normalize, input, phoneRegion);
  if (value === undefined) {
    return {
      ok: false,
      code: "invalid_identity",
      message: `"${input}" is not a valid ${ns.code} (${ns.normalize})`,
    };
  }
  if (INVISIBLE.test(value)) {
    return {
      ok: false,
      code: "invalid_identity",
      message: `${ns.code} id holds control or invisible formatting characters`,
    };
  }
  if (value.length === 0 || value.length > MAX_IDENTITY_LENGTH) {
    return {
      ok: false,
      code: "invalid_identity",
      message: `${ns.code} id must be 1–${MAX_IDENTITY_LENGTH} characters`,
    };
  }
  if (ns.code === "device" && !DEVICE_ID_PATTERN.test(value)) {
    return {
      ok: false,
      code: "invalid_identity",
      message: "a device id is 16–64 characters of [A-Za-z0-9_-]",
    };
  }
  if (isBlocked(value, ns.blockedValues)) {
    return {
      ok: false,
      code: "blocked_identity",
      message: `"${input}" is a blocked ${ns.code} value, never an identity`,
    };
  }
  return { ok: true, value };
}

/** Parses `email:john@luma.com` (URL and CLI form) at the first colon. */
export function parseIdentityString(text: string): { namespace: string; id: string } | undefined {
  const at = text.indexOf(":");
  if (at <= 0) return undefined;
  return { namespace: text.slice(0, at), id: text.slice(at + 1) };
}

export function identityKey(namespace: string, value: string): string {
  return `${namespace}:${value}`;
}

/** The effective per-graph cap of a namespace. */
export function perGraphCap(ns: Pick<NamespaceRules, "unique" | "maxPerGraph">): number {
  if (ns.unique) return 1;
  return ns.maxPerGraph ?? Number.POSITIVE_INFINITY;
}

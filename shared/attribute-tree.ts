/**
 * Attribute trees (record attributes, event data) as plain data, with no object
 * prototype in play: keys like `toString` are ordinary attributes, and the three keys that
 * reach the prototype machinery (`__proto__`, `constructor`, `prototype`) are rejected at
 * validation, so no path built from a CSV header, a JSON body or a merge patch can write
 * through them (SPEC §2 Ingest).
 */
import { InexactNumber } from "./json-exact";

const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export type Tree = Record<string, unknown>;

/** A new, prototype-free object: `tree.toString` is undefined until an attribute sets it. */
export const emptyTree = (): Tree => Object.create(null) as Tree;

export function isTree(value: unknown): value is Tree {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof InexactNumber)
  );
}

/**
 * A copy with ordinary objects (structured clone, e.g. Durable Object RPC, refuses
 * prototype-free ones). `Object.fromEntries` defines keys, so even a `__proto__` key
 * stays a plain own key for validation to reject.
 */
export function plainTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainTree);
  if (isTree(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainTree(v)]));
  return value;
}

/** The own value at `key`, never an inherited one. */
export function own(tree: Tree, key: string): unknown {
  return Object.hasOwn(tree, key) ? tree[key] : undefined;
}

/** Writes `value` at `path`, creating prototype-free objects on the way. */
export function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = own(node, key);
    if (!isTree(next)) node[key] = emptyTree();
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/** Reads the own value at a dotted or split path. */
export function getPath(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const key of path) {
    if (!isTree(node)) return undefined;
    node = own(node, key);
  }
  return node;
}

/** Lone surrogates cannot be stored as sent (SQLite would write U+FFFD). */
/** Copies only the allow-listed paths (a listed object path brings its subtree). */
export function allowListed(
  attributes: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  const out = emptyTree();
  for (const path of paths) {
    const keys = path.split(".");
    const node = getPath(attributes, keys);
    if (node !== undefined) setPath(out, keys, structuredClone(node));
  }
  return out;
}

export const isWellFormed = (text: string): boolean =>
  (text as string & { isWellFormed(): boolean }).isWellFormed();

export type TreeProblem =
  | { kind: "reserved_key"; path: string; key: string }
  | { kind: "malformed_text"; path: string }
  | { kind: "inexact_number"; path: string; source: string }
  | { kind: "unsupported_value"; path: string };

interface TreeReport {
  /** Nesting levels of objects and arrays alike (`{a:[1]}` is 2). */
  depth: number;
  problem?: TreeProblem;
}

const child = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * One walk over an attribute tree: its depth (arrays count) and the first value that
 * cannot be stored exactly as sent. Stops descending past `maxDepth + 1`, so a hostile
 * 10,000-deep array costs no more than a legal one.
 */
export function inspectTree(value: unknown, maxDepth: number, path = ""): TreeReport {
  const report: TreeReport = { depth: 0 };
  const visit = (node: unknown, at: string, level: number): void => {
    if (report.problem) return;
    if (typeof node === "string") {
      if (!isWellFormed(node)) report.problem = { kind: "malformed_text", path: at };
      return;
    }
    if (node instanceof InexactNumber) {
      report.problem = { kind: "inexact_number", path: at, source: node.source };
      return;
    }
    if (node === null || typeof node === "number" || typeof node === "boolean") return;
    if (typeof node !== "object") {
      report.problem = { kind: "unsupported_value", path: at };
      return;
    }
    report.depth = Math.max(report.depth, level + 1);
    if (level + 1 > maxDepth) return; // too deep already: the depth error is the answer
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, child(at, i), level + 1));
      return;
    }
    for (const key of Object.keys(node)) {
      const here = child(at, key);
      if (RESERVED_KEYS.has(key)) report.problem = { kind: "reserved_key", path: here, key };
      else if (!isWellFormed(key)) report.problem = { kind: "malformed_text", path: here };
      else visit((node as Tree)[key], here, level + 1);
      if (report.problem) return;
    }
  };
  visit(value, path, 0);
  return report;
}

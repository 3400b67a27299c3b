/**
 * The merge engine (SPEC §1 "Merge policies"): a profile's fragments + a policy → one
 * attribute tree, with the provenance (dataset, identity, time) of every leaf.
 *
 * Fragments are put in precedence order, then their leaves are laid down first-wins:
 * a leaf is taken unless a higher-precedence fragment already owns that path, a prefix of
 * it (a leaf there) or an extension of it (an object there). Objects merge key by key;
 * arrays and scalars are leaves. The order is total, so the result never depends on how
 * fragments happen to be stored.
 */

import { emptyTree, isTree as isPlainObject } from "../../shared/attribute-tree";
import { COMPUTED_DATASET } from "../../shared/schemas/computed";
import type { MergePolicy } from "../model/profiles";

export interface FragmentInput {
  dataset: string;
  namespace: string;
  value: string;
  attributes: Record<string, unknown>;
  /** Milliseconds: when the fragment was last written. */
  updatedAt: number;
}

export interface Provenance {
  dataset: string;
  identity: { namespace: string; id: string };
  timestamp: string;
  /** Computed attributes: what they are called, when they were computed, how many events they count. */
  name?: string;
  computedAt?: string;
  events?: number;
}

interface MergedAttributes {
  attributes: Record<string, unknown>;
  /** Leaf path (`loyalty.tier`) → where its value came from. */
  provenance: Record<string, Provenance>;
}

export const DEFAULT_POLICY: MergePolicy = {
  name: "default",
  type: "timestamp",
  datasets: [],
  idStitching: "graph",
};

/** Negative when `a` takes precedence over `b`. */
function comparePrecedence(policy: MergePolicy, a: FragmentInput, b: FragmentInput): number {
  // Computed values are Tessera's own: a record's `computed.*` never shadows them.
  const computed = Number(b.dataset === COMPUTED_DATASET) - Number(a.dataset === COMPUTED_DATASET);
  if (computed !== 0) return computed;
  if (policy.type === "dataset-precedence") {
    const rank = (f: FragmentInput) => {
      const i = policy.datasets.indexOf(f.dataset);
      return i < 0 ? policy.datasets.length : i;
    };
    const byRank = rank(a) - rank(b);
    if (byRank !== 0) return byRank;
  }
  return (
    b.updatedAt - a.updatedAt ||
    (a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : 0) ||
    (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0) ||
    (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)
  );
}

/** Leaf paths and values; empty objects hold no attribute and are skipped. */
function leaves(
  tree: Record<string, unknown>,
  prefix: string[] = [],
  out: [string[], unknown][] = [],
): [string[], unknown][] {
  for (const key of Object.keys(tree).sort()) {
    const value = tree[key];
    if (isPlainObject(value)) leaves(value, [...prefix, key], out);
    else out.push([[...prefix, key], value]);
  }
  return out;
}

/** Places `value` at `path` unless something of higher precedence is in the way. */
function place(tree: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!Object.hasOwn(node, key)) node[key] = emptyTree();
    else if (!isPlainObject(node[key])) return false; // a leaf owns a prefix
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (Object.hasOwn(node, last)) return false; // taken: as a leaf, or as an object (an extension)
  // Copy arrays: the merged tree must never alias (and later mutate) a fragment's data.
  node[last] = Array.isArray(value) ? structuredClone(value) : value;
  return true;
}

export function mergeFragments(
  fragments: readonly FragmentInput[],
  policy: MergePolicy,
): MergedAttributes {
  const ordered = [...fragments].sort((a, b) => comparePrecedence(policy, a, b));
  const attributes = emptyTree();
  const provenance = emptyTree() as Record<string, Provenance>;
  for (const fragment of ordered) {
    for (const [path, value] of leaves(fragment.attributes)) {
      if (place(attributes, path, value)) {
        provenance[path.join(".")] = {
          dataset: fragment.dataset,
          identity: { namespace: fragment.namespace, id: fragment.value },
          timestamp: new Date(fragment.updatedAt).toISOString(),
        };
      }
    }
  }
  return { attributes, provenance };
}

/** `firstName lastName`, `name` or `fullName` from an attribute tree; undefined when none. */
export function displayNameOf(attributes: Record<string, unknown>): string | undefined {
  const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
  const first = text(attributes.firstName) ?? text(attributes.first_name);
  const last = text(attributes.lastName) ?? text(attributes.last_name);
  const joined = [first, last].filter(Boolean).join(" ");
  return (
    joined || text(attributes.name) || text(attributes.fullName) || text(attributes.displayName)
  );
}

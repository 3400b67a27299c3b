/**
 * Applies a record's attribute patch to a fragment (SPEC: "attributes deep-merge into the
 * fragment; a null value removes that attribute"). Objects merge key by key; arrays and
 * scalars are leaves and replace. Returns a new prototype-free tree; inputs are not changed.
 */
import { emptyTree, isTree, own, type Tree } from "./attribute-tree";

export function applyPatch(target: Tree, patch: Tree): Tree {
  const out: Tree = Object.assign(emptyTree(), target);
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete out[key];
    } else if (isTree(value)) {
      const base = own(out, key);
      out[key] = applyPatch(isTree(base) ? base : emptyTree(), value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

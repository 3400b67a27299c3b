import { identityKey } from "../../shared/identity/normalize";
import { type GraphRules, GraphWorkspace, linkKey } from "../../worker/graph/workspace";
import type { IdentityState, LinkState } from "../../worker/model/graph";

/** The built-in namespaces' graph rules (SPEC §1). */
export function builtInRules(maxIdentities = 50): GraphRules {
  return {
    maxIdentities,
    namespaces: new Map([
      ["crm", { priority: 100, cap: 1 }],
      ["loyalty", { priority: 90, cap: 1 }],
      ["email", { priority: 80, cap: 5 }],
      ["phone", { priority: 70, cap: 5 }],
      ["device", { priority: 10, cap: Number.POSITIVE_INFINITY }],
    ]),
  };
}

export function ids() {
  let n = 0;
  return () => `p${++n}`;
}

export const ref = (text: string) => {
  const [namespace, ...rest] = text.split(":");
  return { namespace: namespace!, value: rest.join(":") };
};

export type Op =
  | { kind: "observe"; identities: string[]; at: number }
  | { kind: "deleteIdentity"; key: string; at: number }
  | { kind: "deleteLink"; a: string; b: string; at: number };

/**
 * A stand-in for D1 that loads a workspace exactly as the real store does: only the
 * profiles a call touches, whole, plus the links among their identities.
 */
export class MemoryStore {
  identities = new Map<string, IdentityState>();
  links = new Map<string, LinkState>();
  private nextProfile = ids();

  constructor(private rules: GraphRules) {}

  call(ops: Op[]): GraphWorkspace {
    const ws = new GraphWorkspace(this.rules, this.nextProfile);
    const keys = new Set<string>();
    for (const op of ops) {
      if (op.kind === "observe") op.identities.forEach((k) => keys.add(k));
      if (op.kind === "deleteIdentity") keys.add(op.key);
      if (op.kind === "deleteLink") keys.add(op.a), keys.add(op.b);
    }
    const profiles = new Set(
      [...keys].map((k) => this.identities.get(k)?.profileId).filter(Boolean),
    );
    const loaded = [...this.identities.values()].filter((i) => profiles.has(i.profileId));
    const loadedKeys = new Set(loaded.map((i) => i.key));
    ws.load(
      loaded,
      [...this.links.values()].filter((l) => loadedKeys.has(l.a) && loadedKeys.has(l.b)),
    );
    for (const op of ops) apply(ws, op);
    for (const k of ws.deletedIdentities.keys()) this.identities.delete(k);
    for (const k of ws.dirtyIdentities) this.identities.set(k, { ...ws.identities.get(k)! });
    for (const [k] of ws.deletedLinks) this.links.delete(k);
    for (const k of ws.dirtyLinks) this.links.set(k, { ...ws.links.get(k)! });
    return ws;
  }

  partition(): string[][] {
    const byProfile = new Map<string, string[]>();
    for (const i of this.identities.values()) {
      if (!byProfile.has(i.profileId)) byProfile.set(i.profileId, []);
      byProfile.get(i.profileId)!.push(i.key);
    }
    return canonical([...byProfile.values()]);
  }
}

export function apply(ws: GraphWorkspace, op: Op) {
  if (op.kind === "observe") ws.observe(op.identities.map(ref), "test", op.at);
  else if (op.kind === "deleteIdentity") ws.deleteIdentity(op.key, op.at);
  else ws.deleteLink(op.a, op.b, op.at);
}

export function canonical(parts: string[][]): string[][] {
  return parts.map((p) => [...p].sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

export function partitionOf(ws: GraphWorkspace): string[][] {
  return canonical([...ws.members.values()].map((s) => [...s]));
}

export { identityKey, linkKey };

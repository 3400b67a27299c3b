/**
 * A proposed identity configuration (SPEC §9) as the graph engine's rules: the stored
 * namespaces with the proposal's changes, and the `graph` setting's cap.
 */
import type { Db } from "../db/client";
import { listNamespaces, toRules } from "../db/queries/namespaces";
import { getSetting } from "../db/queries/settings";
import { graphRulesOf } from "./identity-config";
import type { GraphRules } from "./workspace";

export interface NamespaceProposal {
  unique?: boolean;
  priority?: number;
  maxPerGraph?: number | null;
  blockedValues?: string[];
}

export interface ConfigProposal {
  namespaces?: Record<string, NamespaceProposal>;
  maxIdentities?: number;
}

/** The rules a proposal would apply, and per namespace the blocked values it would add. */
export async function proposedRules(
  db: Db,
  proposal: ConfigProposal,
): Promise<{ rules: GraphRules; blocked: Record<string, string[]> }> {
  const [rows, graphSetting] = await Promise.all([listNamespaces(db), getSetting(db, "graph")]);
  const namespaces = new Map(rows.map((r) => [r.code, toRules(r)]));
  const blocked: Record<string, string[]> = {};
  for (const [code, change] of Object.entries(proposal.namespaces ?? {})) {
    const current = namespaces.get(code);
    if (!current) continue; // a new namespace holds no identity yet
    const unique = change.unique ?? current.unique;
    namespaces.set(code, {
      ...current,
      unique,
      priority: change.priority ?? current.priority,
      maxPerGraph: unique
        ? 1
        : change.maxPerGraph !== undefined
          ? change.maxPerGraph
          : current.maxPerGraph,
      blockedValues: change.blockedValues ?? current.blockedValues,
    });
    const added = (change.blockedValues ?? []).filter((v) => !current.blockedValues.includes(v));
    if (added.length) blocked[code] = added;
  }
  return {
    rules: graphRulesOf(namespaces, {
      maxIdentities: proposal.maxIdentities ?? graphSetting?.maxIdentities,
    }),
    blocked,
  };
}

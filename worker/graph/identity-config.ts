/**
 * The identity configuration: namespaces (normalization, uniqueness, priority, caps) and
 * the graph settings, loaded from D1 and cached per isolate, turned into the rules the
 * graph engine (workspace.ts) applies.
 */
import { type NamespaceRules, perGraphCap } from "../../shared/identity/normalize";
import { readConfig } from "../config/cache";
import type { Db } from "../db/client";
import { listNamespaces, toRules } from "../db/queries/namespaces";
import { getSetting } from "../db/queries/settings";
import type { GraphRules } from "./workspace";

export const DEFAULT_MAX_IDENTITIES = 50;

export interface IdentityConfig {
  namespaces: Map<string, NamespaceRules>;
  graph: GraphRules;
  phoneRegion: string;
}

/** Namespaces and graph settings as the engine and the normalizer need them (cached per isolate). */
export async function loadIdentityConfig(db: Db, phoneRegion: string): Promise<IdentityConfig> {
  const { rows, graphSetting } = await readConfig("identityConfig", async () => {
    const [rows, graphSetting] = await Promise.all([listNamespaces(db), getSetting(db, "graph")]);
    return { rows, graphSetting };
  });
  const namespaces = new Map(rows.map((r) => [r.code, toRules(r)]));
  return { namespaces, phoneRegion, graph: graphRulesOf(namespaces, graphSetting) };
}

/**
 * The graph engine's rules from namespaces and the `graph` setting. The GraphWriter
 * builds its own from D1 (it owns them while it applies writes); the Worker uses the same
 * function for its reads.
 */
export function graphRulesOf(
  namespaces: ReadonlyMap<string, NamespaceRules>,
  graphSetting: { maxIdentities?: number } | undefined,
): GraphRules {
  return {
    maxIdentities: graphSetting?.maxIdentities ?? DEFAULT_MAX_IDENTITIES,
    namespaces: new Map(
      [...namespaces].map(([code, ns]) => [code, { priority: ns.priority, cap: perGraphCap(ns) }]),
    ),
  };
}

/** The graph rules straight from D1 (no isolate cache): what the GraphWriter loads. */
export async function loadGraphRules(db: Db): Promise<GraphRules> {
  const [rows, graphSetting] = await Promise.all([listNamespaces(db), getSetting(db, "graph")]);
  return graphRulesOf(new Map(rows.map((r) => [r.code, toRules(r)])), graphSetting);
}

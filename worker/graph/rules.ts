import { perGraphCap, type NamespaceRules } from "../../shared/identity/normalize";
import type { Db } from "../db/client";
import { getSetting, listNamespaces, toRules } from "../db/queries/namespaces";
import { cached, CACHE_KEYS } from "../lib/isolate-cache";
import type { GraphRules } from "./workspace";

export const DEFAULT_MAX_IDENTITIES = 50;

export interface IdentityConfig {
  namespaces: Map<string, NamespaceRules>;
  graph: GraphRules;
  phoneRegion: string;
}

/** Namespaces and graph settings as the engine and the normalizer need them (cached per isolate). */
export async function loadIdentityConfig(db: Db, phoneRegion: string): Promise<IdentityConfig> {
  const { rows, graphSetting } = await cached(CACHE_KEYS.identityConfig, async () => {
    const [rows, graphSetting] = await Promise.all([listNamespaces(db), getSetting<{ maxIdentities?: number }>(db, "graph")]);
    return { rows, graphSetting };
  });
  const namespaces = new Map(rows.map((r) => [r.code, toRules(r)]));
  return {
    namespaces,
    phoneRegion,
    graph: {
      maxIdentities: graphSetting?.maxIdentities ?? DEFAULT_MAX_IDENTITIES,
      namespaces: new Map([...namespaces].map(([code, ns]) => [code, { priority: ns.priority, cap: perGraphCap(ns) }])),
    },
  };
}

/**
 * What a configuration change would do to existing graphs (SPEC §9 preview): the graphs
 * in scope are loaded into a working set that runs under the proposed rules, rule 3 is
 * applied again to all of them, and segments are evaluated after — exactly what an apply
 * would commit, but nothing is written.
 *
 * Host slice: `config`, `store` (the load), `ids` (through the working set's load).
 */
import { isBlocked } from "../../../shared/identity/normalize";
import { graphRefs, profilesInScope } from "../../db/queries/graph-runs";
import { graphEffect, type GraphEffect } from "../../graph/effect";
import type { GraphRules, IdentityRef } from "../../graph/workspace";
import type { WriterHost } from "../host";
import { WorkingSet, workingSetReads } from "./working-set";

export interface PreviewScope {
  identities?: IdentityRef[];
  namespace?: string;
  /** Profiles considered at most (default 1,000). */
  limit?: number;
}

/**
 * `blocked`: per namespace, values the change blocks — identities already stored with such a
 * value are isolated (no link joins them), as the value would be refused today.
 */
export async function previewSlice(host: WriterHost, rules: GraphRules, blocked: Record<string, string[]>, scope: PreviewScope, now: number): Promise<GraphEffect> {
  const limit = scope.limit ?? 1000;
  const sql = host.store.sql;
  const inScope = await profilesInScope(sql, scope, limit);
  const truncated = inScope.length > limit;
  const profiles = inScope.slice(0, limit);
  if (profiles.length === 0) return { ...graphEffect([], [], new Map(), new Map()), truncated };
  const isolated = new Set<string>();
  const config = { ...(await host.config.current()), rules: { ...rules, isolated } };
  const refs = await graphRefs(sql, profiles);
  const read = await host.store.read(workingSetReads(host, config, refs, now, true));
  host.ids.loaded(read.counters);
  const set = new WorkingSet(config, read.graph, read.data, read.choices);
  for (const [key, identity] of set.ws.identities) if (blocked[identity.namespace] && isBlocked(identity.value, blocked[identity.namespace])) isolated.add(key);
  const before = new Map([...set.ws.members].map(([p, keys]) => [p, [...keys]]));
  const changed = set.ws.reapply(now);
  set.afterChange(changed, now);
  const after = new Map([...set.ws.members].map(([p, keys]) => [p, [...keys]]));
  return { ...graphEffect(set.ws.history, set.activation, before, after), truncated };
}

/**
 * Graph deletes (SPEC rule 4), run inside the GraphWriter like ingest: load the graph,
 * apply in a workspace, write back in one batch.
 */
import { identityKey } from "../../shared/identity/normalize";
import { allocateIdentityIds, graphWriteStatements, loadGraph, nextIds } from "../db/queries/graph";
import type { Bindings } from "../env";
import { GraphWorkspace, type GraphRules, type IdentityRef } from "./workspace";

async function workspaceFor(env: Bindings, refs: IdentityRef[], rules: GraphRules) {
  const [graph, ids] = await Promise.all([loadGraph(env.DB, refs), nextIds(env.DB)]);
  const ws = new GraphWorkspace(rules, () => crypto.randomUUID());
  ws.load(graph.identities, graph.links);
  return { ws, ids };
}

async function commit(env: Bindings, ws: GraphWorkspace, ids: { identity: number; history: number }, now: number) {
  allocateIdentityIds(ws, ids);
  await env.DB.batch(graphWriteStatements(env.DB, ws, { nextHistoryId: ids.history, now }));
}

export interface DeleteResult {
  found: boolean;
  /** The profile the identity (or link) belonged to before. */
  profileId?: string;
  /** The profiles its graph became. */
  profiles: string[];
}

export async function deleteIdentity(env: Bindings, ref: IdentityRef, rules: GraphRules, now = Date.now()): Promise<DeleteResult> {
  const { ws, ids } = await workspaceFor(env, [ref], rules);
  const key = identityKey(ref.namespace, ref.value);
  const profileId = ws.profileOf(key);
  if (!profileId) return { found: false, profiles: [] };
  const profiles = ws.deleteIdentity(key, now);
  await commit(env, ws, ids, now);
  return { found: true, profileId, profiles };
}

export async function deleteLink(
  env: Bindings,
  from: IdentityRef,
  to: IdentityRef,
  rules: GraphRules,
  now = Date.now(),
): Promise<DeleteResult> {
  const { ws, ids } = await workspaceFor(env, [from, to], rules);
  const a = identityKey(from.namespace, from.value);
  const b = identityKey(to.namespace, to.value);
  const profileId = ws.profileOf(a);
  const { found, profiles } = ws.deleteLink(a, b, now);
  if (!found) return { found: false, profiles: [] };
  await commit(env, ws, ids, now);
  return { found: true, profileId, profiles };
}

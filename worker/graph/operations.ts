/**
 * Graph deletes (SPEC rule 4), run inside the GraphWriter's lane as exclusive
 * operations: load the graph, apply in a workspace, write its changeset in one batch.
 */
import { identityKey } from "../../shared/identity/normalize";
import { graphRead, graphWriteStatements } from "../db/queries/graph";
import { readTogether } from "../db/queries/reads";
import type { WriterState } from "./writer-state";
import { newProfileId } from "./profile-id";
import { GraphWorkspace, type IdentityRef } from "./workspace";

async function workspaceFor(d1: D1Database, state: WriterState, refs: IdentityRef[]) {
  const [{ rules }, loaded] = await Promise.all([state.currentConfig(d1), readTogether(d1, { graph: graphRead(d1, refs), counters: state.countersRead(d1) })]);
  state.setCounters(loaded.counters);
  const ws = new GraphWorkspace(rules, newProfileId);
  ws.load(loaded.graph.identities, loaded.graph.links);
  return ws;
}

async function commit(d1: D1Database, state: WriterState, ws: GraphWorkspace, now: number) {
  const change = ws.changeset();
  // Deletes create no identities: every row id is a stored one.
  const rowId = (key: string) => ws.identities.get(key)?.id ?? ws.deletedIdentities.get(key)?.id;
  await d1.batch(graphWriteStatements(d1, change, rowId, { firstHistoryId: state.allocateHistoryIds(change.history.length), now }));
}

export interface DeleteResult {
  found: boolean;
  /** The profile the identity (or link) belonged to before. */
  profileId?: string;
  /** The profiles its graph became. */
  profiles: string[];
}

export async function deleteIdentity(d1: D1Database, state: WriterState, ref: IdentityRef, now = Date.now()): Promise<DeleteResult> {
  const ws = await workspaceFor(d1, state, [ref]);
  const key = identityKey(ref.namespace, ref.value);
  const profileId = ws.profileOf(key);
  if (!profileId) return { found: false, profiles: [] };
  const profiles = ws.deleteIdentity(key, now);
  await commit(d1, state, ws, now);
  return { found: true, profileId, profiles };
}

export async function deleteLink(d1: D1Database, state: WriterState, from: IdentityRef, to: IdentityRef, now = Date.now()): Promise<DeleteResult> {
  const ws = await workspaceFor(d1, state, [from, to]);
  const a = identityKey(from.namespace, from.value);
  const b = identityKey(to.namespace, to.value);
  const profileId = ws.profileOf(a);
  const { found, profiles } = ws.deleteLink(a, b, now);
  if (!found) return { found: false, profiles: [] };
  await commit(d1, state, ws, now);
  return { found: true, profileId, profiles };
}

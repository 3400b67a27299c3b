/**
 * Graph deletes (SPEC rule 4): `DELETE /v1/identities/…` and `DELETE /v1/links`. The
 * profile is loaded into a working set like an ingest group's, the delete is applied
 * there, and the parts it leaves are re-evaluated for segments (`afterChange`), so a split
 * by a delete moves memberships and delivers `profile.split` exactly as a split by
 * ingest does. The result goes through the one commit step.
 *
 * Host slice: `config`, `store` (the load), `ids` (through the working set).
 */
import { identityKey } from "../../../shared/identity/normalize";
import type { IdentityRef } from "../../model/graph";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";
import type { DeleteResult } from "../types";
import { WorkingSet, workingSetReads } from "./working-set";

async function load(host: WriterHost, refs: IdentityRef[], now: number): Promise<WorkingSet> {
  const config = await host.config.current();
  const read = await host.store.read(workingSetReads(host, config, refs, now));
  host.ids.loaded(read.counters);
  return new WorkingSet(config, read.graph, read.data, read.choices);
}

function result(host: WriterHost, set: WorkingSet, now: number): SliceResult {
  return {
    statements: set.statements(host, now),
    activation: set.activation,
    view: (p) => set.view(p),
  };
}

export async function deleteIdentitySlice(
  host: WriterHost,
  ref: IdentityRef,
  now: number,
): Promise<{ answer: DeleteResult; slice?: SliceResult }> {
  const set = await load(host, [ref], now);
  const key = identityKey(ref.namespace, ref.value);
  const profileId = set.ws.profileOf(key);
  if (!profileId) return { answer: { found: false, profiles: [] } };
  const profiles = set.ws.deleteIdentity(key, now);
  set.afterChange(profiles, now);
  return { answer: { found: true, profileId, profiles }, slice: result(host, set, now) };
}

export async function deleteLinkSlice(
  host: WriterHost,
  from: IdentityRef,
  to: IdentityRef,
  now: number,
): Promise<{ answer: DeleteResult; slice?: SliceResult }> {
  const set = await load(host, [from, to], now);
  const a = identityKey(from.namespace, from.value);
  const b = identityKey(to.namespace, to.value);
  const profileId = set.ws.profileOf(a);
  const { found, profiles } = set.ws.deleteLink(a, b, now);
  if (!found) return { answer: { found: false, profiles: [] } };
  set.afterChange(profiles, now);
  return { answer: { found: true, profileId, profiles }, slice: result(host, set, now) };
}

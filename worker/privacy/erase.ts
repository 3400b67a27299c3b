/**
 * `DELETE /v1/profiles/by-identity/…` (SPEC "privacy erase"), run inside the GraphWriter
 * so no ingest can re-link the person halfway through.
 */
import { identityKey } from "../../shared/identity/normalize";
import { findIdentity, profileIdentities } from "../db/queries/graph";
import { countProfileData, eraseStatements, historyMentioning, type EraseCounts } from "../db/queries/erase";
import { suppressionInsertStatements } from "../db/queries/suppressions";
import type { IdentityRef } from "../graph/workspace";

export interface EraseReceipt {
  profileId: string;
  erased: EraseCounts;
  suppressed: boolean;
}

/** `hash`: the suppression hasher (salted HMAC of an identity key). */
export async function eraseProfile(
  d1: D1Database,
  hash: (identityKey: string) => Promise<string>,
  ref: IdentityRef,
  suppress: boolean,
  now = Date.now(),
  /** Statements to commit with the erase (the webhook outbox). */
  alsoCommit: (profileId: string) => Promise<D1PreparedStatement[]> = async () => [],
): Promise<EraseReceipt | undefined> {
  const found = await findIdentity(d1, ref);
  if (!found) return undefined;
  const members = await profileIdentities(d1, found.profileId);
  const ids = members.map((m) => m.id);
  const keys = members.map((m) => identityKey(m.namespace, m.value));
  const [counts, history] = await Promise.all([countProfileData(d1, ids), historyMentioning(d1, found.profileId, keys)]);

  const statements = eraseStatements(d1, found.profileId, ids, history.map((h) => h.id));
  if (suppress) {
    const rows = await Promise.all(members.map(async (m) => [await hash(identityKey(m.namespace, m.value)), m.namespace, found.profileId] as [string, string, string]));
    statements.push(...suppressionInsertStatements(d1, rows, now));
  }
  statements.push(...(await alsoCommit(found.profileId)));
  await d1.batch(statements);
  return { profileId: found.profileId, erased: counts, suppressed: suppress };
}

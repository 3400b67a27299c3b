/**
 * `DELETE /v1/profiles/by-identity/…` (SPEC "privacy erase"), run in the writer's lane so
 * no ingest can re-link the person halfway through. The erase, the suppression entries and
 * the `profile.erased` deliveries (no personal data in them) are one write.
 *
 * Lifting a suppression is here too: the list is the writer's, read by every ingest group.
 *
 * Host slice: `store` (the profile's rows, statement builders), `suppression`.
 */
import { identityKey } from "../../../shared/identity/normalize";
import { countProfileData, eraseStatements, historyMentioning } from "../../db/queries/erase";
import { findIdentity, profileIdentities } from "../../db/queries/graph";
import {
  suppressionDeleteStatement,
  suppressionExists,
  suppressionInsertStatements,
} from "../../db/queries/suppressions";
import type { IdentityRef } from "../../model/graph";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";
import type { EraseReceipt } from "../types";

export async function eraseSlice(
  host: WriterHost,
  ref: IdentityRef,
  suppress: boolean,
  now: number,
): Promise<{ receipt: EraseReceipt; slice: SliceResult } | undefined> {
  const sql = host.store.sql;
  const found = await findIdentity(sql, ref);
  if (!found) return undefined;
  const members = await profileIdentities(sql, found.profileId);
  const ids = members.map((m) => m.id);
  const keys = members.map((m) => identityKey(m.namespace, m.value));
  const [counts, history] = await Promise.all([
    countProfileData(sql, ids),
    historyMentioning(sql, found.profileId, keys),
  ]);

  const statements = eraseStatements(
    sql,
    found.profileId,
    ids,
    history.map((h) => h.id),
  );
  if (suppress) {
    const hash = await host.suppression.hasher();
    const rows = await Promise.all(
      members.map(
        async (m) =>
          [await hash(identityKey(m.namespace, m.value)), m.namespace, found.profileId] as [
            string,
            string,
            string,
          ],
      ),
    );
    statements.push(...suppressionInsertStatements(sql, rows, now));
  }
  return {
    receipt: { profileId: found.profileId, erased: counts, suppressed: suppress },
    slice: {
      statements,
      activation: [{ type: "profile.erased", profileId: found.profileId, at: now }],
    },
  };
}

/** `DELETE /v1/suppressions…`: the hash leaves the list (undefined when it is not on it). */
export async function liftSuppressionSlice(
  host: WriterHost,
  hash: string,
): Promise<SliceResult | undefined> {
  const sql = host.store.sql;
  if (!(await suppressionExists(sql, hash))) return undefined;
  return { statements: [suppressionDeleteStatement(sql, hash)], activation: [] };
}

/**
 * What a proposed identity configuration would do to existing graphs (SPEC §9): the
 * simulate endpoint's `config`, and `?preview=true` on the routes that change it.
 */
import type { Db } from "../db/client";
import type { Bindings } from "../env";
import { proposedRules, type ConfigProposal } from "../graph/proposed";
import type { IdentityRef } from "../graph/workspace";
import { graphWriter } from "../writer/client";

export async function previewChange(c: { env: Bindings; var: { db: Db } }, proposal: ConfigProposal, scope: { identities?: IdentityRef[]; namespace?: string; limit?: number }) {
  const { rules, blocked } = await proposedRules(c.var.db, proposal);
  return graphWriter(c.env).previewConfig(rules, blocked, scope);
}

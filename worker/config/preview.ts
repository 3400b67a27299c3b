/**
 * Identity configuration changes on existing graphs (SPEC §9): what a proposal would do
 * (the simulate endpoint's `config`, `?preview=true`), and graph runs that apply a saved
 * change to existing graphs (`?apply=retroactive`) or revert one.
 */
import type { Db } from "../db/client";
import type { Bindings } from "../env";
import { proposedRules, type ConfigProposal } from "../graph/proposed";
import type { IdentityRef } from "../graph/workspace";
import { graphWriter } from "../writer/client";
import { createGraphRun } from "../db/queries/graph-runs";
import type { GraphRunJob } from "../model/jobs";

export async function previewChange(c: { env: Bindings; var: { db: Db } }, proposal: ConfigProposal, scope: { identities?: IdentityRef[]; namespace?: string; limit?: number }) {
  const { rules, blocked } = await proposedRules(c.var.db, proposal);
  return graphWriter(c.env).previewConfig(rules, blocked, scope);
}

/** Starts a graph run over `scope` under the configuration now saved; its id. */
export async function startGraphRun(
  c: { env: Bindings; var: { db: Db } },
  run: { kind: "apply" | "revert"; change: Record<string, unknown>; scope: { namespace?: string }; blocked: Record<string, string[]>; reverts?: string },
): Promise<string> {
  const id = `grun_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  await createGraphRun(c.var.db, { id, ...run });
  await graphWriter(c.env).configChanged();
  await c.env.JOBS_QUEUE.send({ kind: "graph-run", runId: id, after: "", scope: run.scope, blocked: run.blocked } satisfies GraphRunJob);
  return id;
}

/** Values in `next` that `previous` did not have (what a change newly blocks). */
export const addedValues = (previous: readonly string[], next: readonly string[]) => next.filter((v) => !previous.includes(v));

/**
 * Identity configuration changes on existing graphs (SPEC §9): what a proposal would do
 * (the simulate endpoint's `config`, `?preview=true`), and graph runs that apply a saved
 * change to existing graphs (`?apply=retroactive`) or revert one.
 */
import type { Db } from "../db/client";
import { createGraphRun } from "../db/queries/graph-runs";
import type { NamespaceRow } from "../db/queries/namespaces";
import { type ConfigProposal, proposedRules } from "../graph/proposed";
import type { Bindings } from "../model/bindings";
import type { IdentityRef } from "../model/graph";
import type { GraphRunJob } from "../model/jobs";
import { previewConfig } from "../writer/client";

export async function previewChange(
  c: { env: Bindings; var: { db: Db } },
  proposal: ConfigProposal,
  scope: { identities?: IdentityRef[]; namespace?: string; limit?: number },
) {
  const { rules, blocked } = await proposedRules(c.var.db, proposal);
  return previewConfig(c.env, rules, blocked, scope);
}

/**
 * A change saved for new data only answers how many existing graphs it would change
 * (SPEC §9), counted over the first 1,000 profiles in scope (`truncated` when there are more).
 * Call before saving: the proposal is compared with the configuration in force.
 */
export async function existingGraphsChanged(
  c: { env: Bindings; var: { db: Db } },
  proposal: ConfigProposal,
  scope: { namespace?: string },
) {
  const effect = await previewChange(c, proposal, scope);
  return { wouldChange: effect.graphsChanged, truncated: effect.truncated };
}

/** Whether a namespace change touches what rule 3 applies (not only its description or normalization). */
export function namespaceRulesDiffer(
  existing: NamespaceRow,
  next: {
    unique: boolean;
    priority: number;
    maxPerGraph: number | null;
    blockedValues: readonly string[];
  },
): boolean {
  const maxPerGraph = existing.unique ? 1 : (existing.maxPerGraph ?? null);
  return (
    existing.unique !== next.unique ||
    existing.priority !== next.priority ||
    maxPerGraph !== next.maxPerGraph ||
    existing.blockedValues.join("\n") !== next.blockedValues.join("\n")
  );
}

export const NO_GRAPHS_CHANGED = { wouldChange: 0, truncated: false } as const;

/** Starts a graph run over `scope` under the configuration now saved (saving told the writer); its id. */
export async function startGraphRun(
  c: { env: Bindings; var: { db: Db } },
  run: {
    kind: "apply" | "revert";
    change: Record<string, unknown>;
    scope: { namespace?: string };
    blocked: Record<string, string[]>;
    reverts?: string;
  },
): Promise<string> {
  const id = `grun_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  await createGraphRun(c.var.db, { id, ...run });
  await c.env.JOBS_QUEUE.send({
    kind: "graph-run",
    runId: id,
    after: "",
    scope: run.scope,
    blocked: run.blocked,
  } satisfies GraphRunJob);
  return id;
}

/** Values in `next` that `previous` did not have (what a change newly blocks). */
export const addedValues = (previous: readonly string[], next: readonly string[]) =>
  next.filter((v) => !previous.includes(v));

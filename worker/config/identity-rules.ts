/**
 * Changing the identity rules (SPEC §9): a namespace's rules or the graph limits. One
 * change, three ways: `preview` answers what it would do to existing graphs and saves
 * nothing; a plain change is saved for new data and answers how many existing graphs it
 * would change; `apply` saves it and starts a graph run applying it to existing graphs.
 */
import type { z } from "zod";
import { isValidBlockedEntry } from "../../shared/identity/normalize";
import type { NamespaceBody } from "../../shared/schemas/config";
import { getGraphRun } from "../db/queries/graph-runs";
import { getNamespace, type NamespaceRow } from "../db/queries/namespaces";
import { getSetting } from "../db/queries/settings";
import { DEFAULT_MAX_IDENTITIES } from "../graph/identity-config";
import { ApiError } from "../lib/errors";
import {
  addedValues,
  existingGraphsChanged,
  NO_GRAPHS_CHANGED,
  namespaceRulesDiffer,
  previewChange,
  startGraphRun,
} from "./preview";
import { type ConfigWrite, saveNamespace, saveSetting } from "./service";

interface ChangeMode {
  preview?: boolean | undefined;
  apply?: "retroactive" | undefined;
}

/** What a change did: previewed, saved for new data, or started a run over existing graphs. */
type RuleChange<Saved> =
  | { kind: "preview"; effect: Awaited<ReturnType<typeof previewChange>> }
  | { kind: "run"; runId: string }
  | { kind: "saved"; saved: Saved; existingGraphs: { wouldChange: number; truncated: boolean } };

function oneMode(mode: ChangeMode) {
  if (mode.preview && mode.apply)
    throw new ApiError("invalid_request", "preview or apply, not both", {
      details: [{ path: "apply", message: "not with preview" }],
    });
}

export async function changeNamespace(
  c: ConfigWrite,
  code: string,
  body: z.output<typeof NamespaceBody>,
  mode: ChangeMode,
): Promise<RuleChange<NamespaceRow & { builtIn: boolean }>> {
  const bad = (body.blockedValues ?? []).findIndex((v) => !isValidBlockedEntry(v));
  if (bad >= 0) {
    throw new ApiError("invalid_request", "a blocked value is not a valid /regex/", {
      details: [
        {
          path: `blockedValues[${bad}]`,
          message:
            "not an RE2 regular expression of at most 200 characters (no backreferences or lookaround)",
        },
      ],
    });
  }
  const existing = await getNamespace(c.var.db, code);
  if (existing?.builtIn && existing.normalize !== body.normalize) {
    // Stored identities were normalized the old way; changing it would orphan them.
    throw new ApiError(
      "conflict",
      `the normalization of the built-in namespace "${code}" cannot change`,
    );
  }
  oneMode(mode);
  const rules = {
    unique: body.unique,
    priority: body.priority,
    maxPerGraph: body.unique ? 1 : (body.maxPerGraph ?? null),
    blockedValues: body.blockedValues ?? [],
  };
  const proposal = { namespaces: { [code]: rules } };
  if (mode.preview)
    return { kind: "preview", effect: await previewChange(c, proposal, { namespace: code }) };
  // Before saving: the count compares the change with the rules in force.
  const existingGraphs =
    !mode.apply && existing && namespaceRulesDiffer(existing, rules)
      ? await existingGraphsChanged(c, proposal, { namespace: code })
      : NO_GRAPHS_CHANGED;
  const row = await saveNamespace(c, {
    code,
    normalize: body.normalize,
    ...rules,
    description: body.description ?? existing?.description ?? null,
    pseudonymous: body.pseudonymous ?? existing?.pseudonymous ?? false,
  });
  if (!mode.apply)
    return {
      kind: "saved",
      saved: { ...row, builtIn: existing?.builtIn ?? false },
      existingGraphs,
    };
  const previous = existing && {
    unique: existing.unique,
    priority: existing.priority,
    maxPerGraph: existing.maxPerGraph,
    blockedValues: existing.blockedValues,
  };
  const next = previous
    ? {
        unique: row.unique,
        priority: row.priority,
        maxPerGraph: row.maxPerGraph,
        blockedValues: row.blockedValues,
      }
    : body;
  const runId = await startGraphRun(c, {
    kind: "apply",
    change: { target: "namespace", code, previous: previous ?? null, next },
    scope: { namespace: code },
    blocked: previous ? { [code]: addedValues(previous.blockedValues, row.blockedValues) } : {},
  });
  return { kind: "run", runId };
}

export async function changeGraphSettings(
  c: ConfigWrite,
  body: { maxIdentities: number },
  mode: ChangeMode,
): Promise<RuleChange<{ maxIdentities: number }>> {
  oneMode(mode);
  if (mode.preview)
    return {
      kind: "preview",
      effect: await previewChange(c, { maxIdentities: body.maxIdentities }, {}),
    };
  const previous = (await getSetting(c.var.db, "graph"))?.maxIdentities ?? DEFAULT_MAX_IDENTITIES;
  const existingGraphs =
    !mode.apply && body.maxIdentities !== previous
      ? await existingGraphsChanged(c, { maxIdentities: body.maxIdentities }, {})
      : NO_GRAPHS_CHANGED;
  await saveSetting(c, "graph", body);
  if (!mode.apply) return { kind: "saved", saved: body, existingGraphs };
  const runId = await startGraphRun(c, {
    kind: "apply",
    change: { target: "graph", previous: { maxIdentities: previous }, next: body },
    scope: {},
    blocked: {},
  });
  return { kind: "run", runId };
}

/**
 * Reverts a run that applied a change: the previous rules are saved again and a run
 * applies them to the same graphs; the new run's id.
 */
export async function revertGraphRun(c: ConfigWrite, id: string): Promise<string> {
  const run = await getGraphRun(c.var.db, id);
  if (!run) throw new ApiError("not_found", `no graph run ${id}`);
  if (run.kind !== "apply")
    throw new ApiError("conflict", "only a run that applied a change can be reverted");
  const change = run.change as {
    target: "namespace" | "graph";
    code?: string;
    previous: Record<string, any> | null;
    next: Record<string, any>;
  };
  if (!change.previous)
    throw new ApiError("conflict", "the run created its namespace: there is nothing to restore");
  if (change.target === "namespace") {
    const current = (await getNamespace(c.var.db, change.code!))!;
    const p = change.previous;
    await saveNamespace(c, {
      code: current.code,
      normalize: current.normalize,
      unique: p.unique,
      priority: p.priority,
      maxPerGraph: p.maxPerGraph,
      blockedValues: p.blockedValues,
      description: current.description,
      pseudonymous: current.pseudonymous,
    });
  } else {
    await saveSetting(c, "graph", { maxIdentities: change.previous.maxIdentities });
  }
  const blocked =
    change.target === "namespace"
      ? {
          [change.code!]: addedValues(
            change.next.blockedValues ?? [],
            change.previous.blockedValues ?? [],
          ),
        }
      : {};
  return startGraphRun(c, {
    kind: "revert",
    change: { ...change, previous: change.next, next: change.previous },
    scope: run.scope as { namespace?: string },
    blocked,
    reverts: run.id,
  });
}

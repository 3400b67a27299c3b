/**
 * A configuration change on existing graphs (SPEC §9): the graphs in scope are loaded into
 * a working set that runs under the new rules, rule 3 is applied again to all of them, and
 * segments are evaluated after. A preview answers the effect and writes nothing; a graph
 * run commits it, slice by slice, through the one commit step.
 *
 * Host slice: `config`, `store` (the load), `ids` (through the working set's load).
 */
import { isBlocked } from "../../../shared/identity/normalize";
import {
  graphRefs,
  graphRunProgressStatement,
  profilesAfter,
  profilesInScope,
} from "../../db/queries/graph-runs";
import { type GraphEffect, graphEffect } from "../../graph/effect";
import type { GraphRules } from "../../graph/workspace";
import type { IdentityRef } from "../../model/graph";
import { type GraphRunJob, nextShard } from "../../model/jobs";
import type { SliceResult } from "../commit";
import type { WriterHost } from "../host";
import { WorkingSet, workingSetReads } from "./working-set";

export interface PreviewScope {
  identities?: IdentityRef[];
  namespace?: string;
  /** Profiles considered at most (default 1,000). */
  limit?: number;
}

/** The graphs of `profiles` (and their refused links' neighbours) reapplied under `rules`, in a working set. */
async function reapplied(
  host: WriterHost,
  rules: GraphRules,
  blocked: Record<string, string[]>,
  profiles: readonly string[],
  now: number,
) {
  const isolated = new Set<string>();
  const config = { ...(await host.config.current()), rules: { ...rules, isolated } };
  const refs = await graphRefs(host.store.sql, profiles);
  const read = await host.store.read(workingSetReads(host, config, refs, now, true));
  host.ids.loaded(read.counters);
  const set = new WorkingSet(config, read.graph, read.data, read.choices);
  // Values blocked by the change: identities already stored with one join nothing any more.
  for (const [key, identity] of set.ws.identities)
    if (blocked[identity.namespace] && isBlocked(identity.value, blocked[identity.namespace]))
      isolated.add(key);
  const before = new Map([...set.ws.members].map(([p, keys]) => [p, [...keys]]));
  set.afterChange(set.ws.reapply(now), now);
  return { set, before };
}

/**
 * `blocked`: per namespace, values the change blocks — identities already stored with such a
 * value are isolated (no link joins them), as the value would be refused today.
 */
export async function previewSlice(
  host: WriterHost,
  rules: GraphRules,
  blocked: Record<string, string[]>,
  scope: PreviewScope,
  now: number,
): Promise<GraphEffect & { examined: number }> {
  const limit = scope.limit ?? 1000;
  const inScope = await profilesInScope(host.store.sql, scope, limit);
  const truncated = inScope.length > limit;
  const profiles = inScope.slice(0, limit);
  if (profiles.length === 0)
    return { ...graphEffect([], [], new Map(), new Map()), truncated, examined: 0 };
  const { set, before } = await reapplied(host, rules, blocked, profiles, now);
  const after = new Map([...set.ws.members].map(([p, keys]) => [p, [...keys]]));
  return {
    ...graphEffect(set.ws.history, set.activation, before, after),
    truncated,
    examined: profiles.length,
  };
}

/** Profiles per slice of a graph run. */
export const GRAPH_RUN_SLICE = 10;
/** Profiles per background job (one queue message). */
export const GRAPH_RUN_PAGE = 500;

/**
 * One slice of a graph run: the next profiles of its scope reapplied under the rules now
 * in force (the change is saved before the run starts), committed like any change —
 * history with cause `config`, memberships, computed values, webhooks — with the run's
 * progress in the same write.
 */
export async function graphRunSlice(
  host: WriterHost,
  job: GraphRunJob,
  now: number,
): Promise<{ job: GraphRunJob; done: boolean; slice: SliceResult }> {
  const sql = host.store.sql;
  if (job.after === "") host.config.invalidate(); // the change was saved just before the run: apply it, not a cached copy
  const { rules } = await host.config.current();
  const profiles = await profilesAfter(sql, job.scope, job.after, GRAPH_RUN_SLICE);
  const walk = profiles.length < GRAPH_RUN_SLICE ? nextShard(job.walk) : job.walk;
  const done = profiles.length < GRAPH_RUN_SLICE && !walk;
  const after = walk !== job.walk ? "" : (profiles.at(-1) ?? job.after); // the next shard starts from its beginning
  const next = { ...job, after, ...(walk ? { walk } : {}) };
  if (profiles.length === 0) {
    return {
      job: next,
      done,
      slice: {
        statements: [],
        activation: [],
        trailing: [
          graphRunProgressStatement(
            sql,
            job.runId,
            { graphs: 0, merges: 0, splits: 0, moves: 0, evictions: 0 },
            after,
            done,
          ),
        ],
      },
    };
  }
  const { set } = await reapplied(host, rules, job.blocked, profiles, now);
  const count = (kind: string) => set.ws.history.filter((h) => h.kind === kind).length;
  const counts = {
    graphs: profiles.length,
    merges: count("merge"),
    splits: count("split"),
    moves: count("move"),
    evictions: count("evict"),
  };
  return {
    job: next,
    done,
    slice: {
      statements: set.statements(host, now),
      activation: set.activation,
      view: (p) => set.view(p),
      trailing: [graphRunProgressStatement(sql, job.runId, counts, after, done)],
    },
  };
}

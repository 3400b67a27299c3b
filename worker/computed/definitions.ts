/**
 * Checking a computed attribute definition (SPEC §7) and turning a stored one into what
 * the writer applies. Every problem is an error detail naming its field.
 */

import type { ErrorDetail } from "../../shared/errors";
import { formatPath } from "../../shared/errors";
import type { Rule } from "../../shared/schemas/segments";
import { loadStoredDefinitions } from "../db/queries/computed";
import type { ComputedDef, StoredDefinition } from "../model/computed";
import { durationMs, validateRule } from "../segments/rules";

/** The problems of a definition beyond its shape (which the request schema checks). */
export function definitionProblems(d: StoredDefinition): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  if (d.aggregate !== "count" && !d.field)
    details.push({
      path: "field",
      message: `aggregate ${d.aggregate} needs a field (data.<path>)`,
    });
  if (d.within !== undefined && !durationMs(d.within))
    details.push({
      path: "within",
      message: `"${d.within}" is not an ISO-8601 duration like P90D or PT12H`,
    });
  d.filter?.where?.forEach((raw, i) => {
    const at: PropertyKey[] = ["filter", "where", i];
    const checked = validateRule(raw);
    if (!checked.ok) {
      details.push(
        ...checked.details.map((x) => ({
          ...x,
          path: formatPath(at) + x.path.replace(/^rule/, ""),
        })),
      );
      return;
    }
    const walk = (rule: Rule, path: PropertyKey[]) => {
      if ("all" in rule) rule.all.forEach((r, j) => walk(r, [...path, "all", j]));
      else if ("any" in rule) rule.any.forEach((r, j) => walk(r, [...path, "any", j]));
      else if ("not" in rule) walk(rule.not, [...path, "not"]);
      else if ("event" in rule || "consent" in rule)
        details.push({
          path: formatPath(path),
          message: "a filter tests one event: use attribute conditions (attr: data.<path> or type)",
        });
      else if (rule.attr !== "type" && !rule.attr.startsWith("data."))
        details.push({
          path: formatPath([...path, "attr"]),
          message: `"${rule.attr}" is not on the event: use data.<path> or type`,
        });
    };
    walk(checked.rule, at);
  });
  return details;
}

/** A stored definition as the writer applies it. */
function toDef(row: {
  id: string;
  name: string;
  definition: StoredDefinition;
  version: number;
}): ComputedDef {
  const d = row.definition;
  return {
    id: row.id,
    name: row.name,
    aggregate: d.aggregate,
    ...(d.field ? { field: d.field.split(".") } : {}),
    ...(d.filter
      ? {
          filter: {
            ...(d.filter.type ? { type: d.filter.type } : {}),
            ...(d.filter.where ? { where: d.filter.where as Rule[] } : {}),
          },
        }
      : {}),
    ...(d.within ? { withinMs: durationMs(d.within)! } : {}),
    version: row.version,
  };
}

/** The stored definitions (db/queries/computed.ts) as the writer applies them. */
export async function loadComputedDefs(d1: D1Database): Promise<ComputedDef[]> {
  return (await loadStoredDefinitions(d1)).map(toDef);
}

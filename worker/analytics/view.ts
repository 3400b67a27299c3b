/**
 * Data views (SPEC §5 "Journey analytics"): a definition is checked field by field and
 * compiled into what the report engine runs — parsed fields, metric filters and formula
 * trees. Every problem is reported at once, each with the path of the field it is in.
 */

import { type ErrorDetail, formatPath } from "../../shared/errors";
import type { DataViewInput } from "../../shared/schemas/data-views";
import type { AttributeOp } from "../../shared/schemas/segments";
import type { Condition, Field, Grain, Metric } from "../model/analytics";
import {
  evaluateFormula,
  type Formula,
  FormulaError,
  formulaReferences,
  parseFormula,
} from "./formula";

export interface Calculated {
  id: string;
  formula: Formula;
  text: string;
  description?: string;
}

export interface CompiledView {
  id: string;
  name: string;
  builtIn: boolean;
  timezone: string;
  datasets?: string[];
  dimensions: { id: string; field: Field; text: string }[];
  metrics: Metric[];
  calculated: Calculated[];
  /** The definition as stored and served. */
  definition: DataViewInput;
}

const PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** `type`, `dataset`, `data.<path>`, `profile.<path>` or `time.day|week|month`. */
function parseField(text: string): Field | string {
  if (text === "type") return { kind: "type" };
  if (text === "dataset") return { kind: "dataset" };
  if (text === "time.day" || text === "time.week" || text === "time.month")
    return { kind: "time", grain: text.slice(5) as Grain };
  for (const kind of ["data", "profile"] as const) {
    if (text.startsWith(`${kind}.`)) {
      const path = text.slice(kind.length + 1);
      return PATH.test(path) && path.length <= 200
        ? { kind, path }
        : `"${text}": ${kind}.<path> takes a dotted path like ${kind}.loyalty.tier`;
    }
  }
  return `unknown field "${text}": use type, dataset, data.<path>, profile.<path> or time.day|week|month`;
}

const isScalar = (v: unknown) =>
  v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** Problems with a condition's value for its operator (the segment rule operators). */
function conditionProblem(op: AttributeOp, value: unknown): string | undefined {
  switch (op) {
    case "exists":
      return value === undefined || typeof value === "boolean"
        ? undefined
        : "exists takes true, false or no value";
    case "in":
      if (!Array.isArray(value) || value.length === 0 || value.length > 100)
        return "in takes a list of 1–100 values";
      return value.every(isScalar) ? undefined : "in compares strings, numbers, booleans or null";
    case "eq":
    case "ne":
      return isScalar(value) ? undefined : `${op} compares a string, number, boolean or null`;
    case "contains":
    case "startsWith":
      return typeof value === "string" || (op === "contains" && isScalar(value) && value !== null)
        ? undefined
        : `${op} takes a string`;
    default:
      return typeof value === "number" || typeof value === "string"
        ? undefined
        : `${op} compares a number or a string`;
  }
}

/** Checks a definition and compiles it, or lists every problem with its path. */
export function compileView(
  id: string,
  input: DataViewInput,
  options: { knownDatasets?: ReadonlySet<string>; checkTimeZone: (tz: string) => boolean },
): { ok: true; view: CompiledView } | { ok: false; details: ErrorDetail[] } {
  const details: ErrorDetail[] = [];
  const problem = (path: PropertyKey[], message: string) =>
    details.push({ path: formatPath(path), message });

  const timezone = input.timezone ?? "UTC";
  if (!options.checkTimeZone(timezone))
    problem(
      ["timezone"],
      `unknown time zone "${timezone}": use an IANA name like Europe/Amsterdam`,
    );
  input.datasets?.forEach((name, i) => {
    if (options.knownDatasets && !options.knownDatasets.has(name))
      problem(["datasets", i], `no dataset "${name}"`);
  });

  const dimensions: CompiledView["dimensions"] = [];
  const dimensionIds = new Set<string>();
  input.dimensions.forEach((d, i) => {
    if (dimensionIds.has(d.id))
      problem(["dimensions", i, "id"], `dimension "${d.id}" is defined twice`);
    dimensionIds.add(d.id);
    const field = parseField(d.field);
    if (typeof field === "string") problem(["dimensions", i, "field"], field);
    else dimensions.push({ id: d.id, field, text: d.field });
  });

  const metricIds = new Set<string>();
  const metrics: Metric[] = [];
  input.metrics.forEach((m, i) => {
    if (metricIds.has(m.id)) problem(["metrics", i, "id"], `metric "${m.id}" is defined twice`);
    metricIds.add(m.id);
    let field: Metric["field"];
    if (m.aggregate === "sum" || m.aggregate === "avg") {
      const parsed =
        m.field === undefined
          ? `${m.aggregate} needs a numeric field: data.<path>`
          : parseField(m.field);
      if (typeof parsed === "string") problem(["metrics", i, "field"], parsed);
      else if (parsed.kind !== "data")
        problem(
          ["metrics", i, "field"],
          `${m.aggregate} reads a number from the event: use data.<path>`,
        );
      else field = parsed;
    } else if (m.field !== undefined) {
      problem(["metrics", i, "field"], `${m.aggregate} takes no field`);
    }
    const where: Condition[] = [];
    m.filter?.where?.forEach((c, j) => {
      const at = ["metrics", i, "filter", "where", j];
      const parsed = parseField(c.field);
      if (typeof parsed === "string") return problem([...at, "field"], parsed);
      if (parsed.kind === "time")
        return problem([...at, "field"], "filter on time with the report's from and to");
      const bad = conditionProblem(c.op, c.value);
      if (bad) return problem([...at, "value"], bad);
      where.push({ field: parsed, op: c.op, value: c.value });
    });
    metrics.push({ id: m.id, aggregate: m.aggregate, field, types: m.filter?.type, where });
  });

  const calculated: Calculated[] = [];
  const known = new Set(metricIds);
  input.calculated?.forEach((c, i) => {
    const at = ["calculated", i];
    if (known.has(c.id)) problem([...at, "id"], `"${c.id}" is already a metric`);
    try {
      const formula = parseFormula(c.formula);
      for (const ref of formulaReferences(formula)) {
        if (!known.has(ref))
          problem(
            [...at, "formula"],
            `unknown metric "${ref}" (a formula uses metrics and calculated metrics defined before it)`,
          );
      }
      calculated.push({ id: c.id, formula, text: c.formula });
    } catch (e) {
      if (!(e instanceof FormulaError)) throw e;
      problem([...at, "formula"], `formula ${e.message}`);
    }
    known.add(c.id);
  });

  if (details.length) return { ok: false, details };
  return {
    ok: true,
    view: {
      id,
      name: input.name,
      builtIn: false,
      timezone,
      datasets: input.datasets,
      dimensions,
      metrics,
      calculated,
      definition: input,
    },
  };
}

/** Values of the calculated metrics, in order, given the base metrics. */
export function withCalculated(
  view: Pick<CompiledView, "calculated">,
  values: Record<string, number | null>,
): Record<string, number | null> {
  const all = { ...values };
  for (const c of view.calculated) {
    const v = evaluateFormula(c.formula, all);
    all[c.id] = v === null || !Number.isFinite(v) ? null : v;
  }
  return all;
}

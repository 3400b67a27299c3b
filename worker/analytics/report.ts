/**
 * Data view reports: which metrics a request needs, the limits that keep a report from
 * scanning without bound, and the shape of the answer (every time bucket present,
 * calculated metrics, order, completeness). D1 does the aggregation (db/queries/analytics);
 * profile paths are applied here after merging each profile's attributes.
 */
import { getPath } from "../../shared/attribute-tree";
import {
  aggregateByProfile,
  aggregateEvents,
  aggregateRollups,
  countEventsInRange,
  fragmentsOfProfiles,
  type ReportScope,
} from "../db/queries/analytics";
import { fail, type Result, resultOf } from "../lib/result";
import { onWholeHours } from "../lib/time";
import type { Field, Grain, Metric } from "../model/analytics";
import type { MergePolicy } from "../model/profiles";
import { mergeFragments } from "../profiles/merge";
import { bucketComplete, bucketKeys, offsetSteps, rangeComplete } from "../reports/time";
import { testAttribute } from "../segments/rules";
import { formulaReferences } from "./formula";
import { type CompiledView, withCalculated } from "./view";

/** Distinct dimension values one report may produce (more: a clear error, never a time-out). */
const MAX_KEYS = 10_000;
/** Events one report may scan. */
const MAX_SCAN_EVENTS = 5_000_000;
/** Profile paths merge every profile in range: at most this many days… */
const PROFILE_PATH_MAX_DAYS = 92;
/** …and this many profiles. */
const PROFILE_PATH_MAX_PROFILES = 20_000;
const DAY_MS = 86_400_000;

export interface ReportRequest {
  range: { start: number; end: number };
  tz: string;
  now: number;
  dimension?: string;
  metrics?: string[];
  limit: number;
}

export interface ReportItem {
  key: string;
  values: Record<string, number | null>;
  complete: boolean;
}

export interface Report {
  view: string;
  from: string;
  to: string;
  tz: string;
  dimension: string;
  metrics: string[];
  items: ReportItem[];
  totals: Record<string, number | null>;
  complete: boolean;
  truncated: boolean;
}

/** The dimension and metrics a request asks for, checked against the view. */
export function resolveRequest(
  view: Pick<CompiledView, "dimensions" | "metrics" | "calculated">,
  request: Pick<ReportRequest, "dimension" | "metrics">,
) {
  const dimension =
    request.dimension === undefined
      ? view.dimensions[0]!
      : view.dimensions.find((d) => d.id === request.dimension);
  if (!dimension) {
    fail("invalid_request", `the view has no dimension "${request.dimension}"`, [
      { path: "dimension", message: `one of ${view.dimensions.map((d) => d.id).join(", ")}` },
    ]);
  }
  const all = [...view.metrics.map((m) => m.id), ...view.calculated.map((c) => c.id)];
  const requested = request.metrics?.length ? request.metrics : all;
  const unknown = requested.filter((id) => !all.includes(id));
  if (unknown.length) {
    fail(
      "invalid_request",
      `the view has no metric ${unknown.map((u) => `"${u}"`).join(", ")}`,
      unknown.map((u) => ({
        path: "metrics",
        message: `unknown metric "${u}"; the view has ${all.join(", ")}`,
      })),
    );
  }
  return { dimension, metrics: requested };
}

/** The base metrics needed for `requested`, following calculated metrics' references. */
function neededMetrics(view: CompiledView, requested: readonly string[]): Metric[] {
  const needed = new Set(requested);
  for (const c of [...view.calculated].reverse()) {
    if (!needed.has(c.id)) continue;
    formulaReferences(c.formula, needed);
  }
  return view.metrics.filter((m) => needed.has(m.id));
}

const usesProfilePaths = (dimension: Field, metrics: readonly Metric[]) =>
  dimension.kind === "profile" ||
  metrics.some((m) => m.where.some((c) => c.field.kind === "profile"));

/** Runs a report over a user-defined view. */
export function runViewReport(
  d1: D1Database,
  view: CompiledView,
  request: ReportRequest,
  policy: MergePolicy,
): Promise<Result<Report>> {
  return resultOf(() => viewReport(d1, view, request, policy));
}

async function viewReport(
  d1: D1Database,
  view: CompiledView,
  request: ReportRequest,
  policy: MergePolicy,
): Promise<Report> {
  const { dimension, metrics: requested } = resolveRequest(view, request);
  const metrics = neededMetrics(view, requested);
  const { range, tz } = request;
  const scope: ReportScope = {
    start: range.start,
    end: range.end,
    datasets: view.datasets,
    steps: offsetSteps(range.start, range.end, tz),
  };
  const profileMode = usesProfilePaths(dimension.field, metrics);
  if (profileMode && range.end - range.start > PROFILE_PATH_MAX_DAYS * DAY_MS) {
    fail(
      "invalid_request",
      `a report with a profile.<path> dimension or filter covers at most ${PROFILE_PATH_MAX_DAYS} days`,
      [
        {
          path: "from",
          message: `the range is ${Math.ceil((range.end - range.start) / DAY_MS)} days; profile attributes are merged per profile, so narrow it to ${PROFILE_PATH_MAX_DAYS}`,
        },
      ],
    );
  }
  const events = await countEventsInRange(d1, range.start, range.end);
  if (events > MAX_SCAN_EVENTS) {
    fail(
      "invalid_request",
      `the range holds ${events} events; one report scans at most ${MAX_SCAN_EVENTS}`,
      [{ path: "from", message: "narrow the range" }],
    );
  }

  let rows: { key: string; values: Record<string, number | null> }[];
  let totals: Record<string, number | null>;
  try {
    ({ rows, totals } = profileMode
      ? await profileRows(d1, scope, dimension, metrics, policy)
      : await eventRows(
          d1,
          scope,
          dimension as { id: string; field: Exclude<Field, { kind: "profile" }> },
          metrics,
        ));
  } catch (e) {
    if (e instanceof RangeError)
      fail(
        "invalid_request",
        `this view is too complex for one query (${e.message}): split its metrics into two views`,
      );
    throw e;
  }
  return shapeReport({
    view: view.id,
    calculated: view,
    dimension: { id: dimension.id, field: dimension.field },
    metrics: requested,
    baseMetrics: metrics,
    rows,
    totals,
    request,
  });
}

function tooManyKeys(id: string): never {
  return fail(
    "invalid_request",
    `dimension "${id}" has more than ${MAX_KEYS} values in this range`,
    [
      {
        path: "dimension",
        message: "narrow the range, filter the metrics, or pick a dimension with fewer values",
      },
    ],
  );
}

/** Can the hourly rollups answer this metric by this dimension over this scope? */
function fromRollups(metric: Metric, field: Field, scope: ReportScope): boolean {
  return (
    metric.aggregate === "count" &&
    metric.where.length === 0 &&
    (field.kind === "time" || field.kind === "type" || field.kind === "dataset") &&
    onWholeHours(scope, scope.steps)
  );
}

/**
 * Plain counts come from the hourly rollups (no scan); the other metrics from one
 * aggregate query over the events they need (narrowed by their types).
 */
async function eventRows(
  d1: D1Database,
  scope: ReportScope,
  dimension: { id: string; field: Exclude<Field, { kind: "profile" }> },
  metrics: readonly Metric[],
) {
  const rolled = metrics.filter((m) => fromRollups(m, dimension.field, scope));
  const scanned = metrics.filter((m) => !rolled.includes(m));
  const [fromRollup, fromScan] = await Promise.all([
    rolled.length
      ? aggregateRollups(
          d1,
          scope,
          dimension.field as Extract<Field, { kind: "time" | "type" | "dataset" }>,
          rolled,
          MAX_KEYS,
        )
      : [],
    scanned.length
      ? aggregateEvents(d1, scope, dimension.field, scanned, MAX_KEYS)
      : { rows: [], totals: [] },
  ]);
  if (fromRollup.length > MAX_KEYS || fromScan.rows.length > MAX_KEYS) tooManyKeys(dimension.id);
  const empty = (m: Metric) => (m.aggregate === "avg" ? null : 0);
  const rows = new Map<string, Record<string, number | null>>();
  const row = (key: string | null) => {
    const k = key ?? "(none)";
    let r = rows.get(k);
    if (!r) rows.set(k, (r = Object.fromEntries(metrics.map((m) => [m.id, empty(m)]))));
    return r;
  };
  for (const r of fromRollup) rolled.forEach((m, i) => (row(r.key)[m.id] = r.values[i] ?? 0));
  for (const r of fromScan.rows)
    scanned.forEach((m, i) => (row(r.key)[m.id] = r.values[i] ?? empty(m)));
  const totals: Record<string, number | null> = {};
  rolled.forEach(
    (m) =>
      (totals[m.id] = fromRollup.reduce((sum, r) => sum + (r.values[rolled.indexOf(m)] ?? 0), 0)),
  );
  scanned.forEach((m, i) => (totals[m.id] = fromScan.totals[i] ?? empty(m)));
  // Keys only a rollup saw with zero counts (a type filtered out) are not values of the dimension.
  for (const [key, values] of rows)
    if (Object.values(values).every((v) => v === 0 || v === null)) rows.delete(key);
  return { rows: [...rows].map(([key, values]) => ({ key, values })), totals };
}

/** Profile paths: metric pieces per profile from D1, attributes merged here, then summed per key. */
async function profileRows(
  d1: D1Database,
  scope: ReportScope,
  dimension: { id: string; field: Field },
  metrics: readonly Metric[],
  policy: MergePolicy,
) {
  const field = dimension.field;
  const partials = await aggregateByProfile(
    d1,
    scope,
    field.kind === "profile" ? undefined : field,
    metrics,
    PROFILE_PATH_MAX_PROFILES * 10,
  );
  const profileIds = [...new Set(partials.map((p) => p.profileId))];
  if (
    profileIds.length > PROFILE_PATH_MAX_PROFILES ||
    partials.length > PROFILE_PATH_MAX_PROFILES * 10
  ) {
    fail(
      "invalid_request",
      `a report with a profile.<path> dimension or filter covers at most ${PROFILE_PATH_MAX_PROFILES} profiles`,
      [{ path: "from", message: "narrow the range or filter the metrics by event type" }],
    );
  }
  const byProfile = new Map<string, Parameters<typeof mergeFragments>[0][number][]>();
  for (const f of await fragmentsOfProfiles(d1, profileIds)) {
    let list = byProfile.get(f.profileId);
    if (!list) byProfile.set(f.profileId, (list = []));
    list.push({
      dataset: f.dataset,
      namespace: f.namespace,
      value: f.value,
      attributes: JSON.parse(f.attributes),
      updatedAt: f.updatedAt,
    });
  }
  const attributes = new Map(
    profileIds.map((id) => [id, mergeFragments(byProfile.get(id) ?? [], policy).attributes]),
  );

  interface Acc {
    count: number;
    profiles: Set<string>;
    sum: number;
    n: number;
  }
  const fresh = (): Acc[] => metrics.map(() => ({ count: 0, profiles: new Set(), sum: 0, n: 0 }));
  const buckets = new Map<string, Acc[]>();
  const all = fresh();
  for (const p of partials) {
    const attrs = attributes.get(p.profileId)!;
    let key = p.key ?? "(none)";
    if (field.kind === "profile") {
      const v = getPath(attrs, field.path.split("."));
      key =
        v === undefined || v === null
          ? "(none)"
          : typeof v === "object"
            ? JSON.stringify(v)
            : String(v);
    }
    let accs = buckets.get(key);
    if (!accs) buckets.set(key, (accs = fresh()));
    metrics.forEach((m, i) => {
      const [count, sum, n] = p.parts[i]!;
      if (count === 0) return;
      if (
        !m.where.every(
          (c) =>
            c.field.kind !== "profile" ||
            testAttribute(attrs, { attr: c.field.path, op: c.op, value: c.value }),
        )
      )
        return;
      for (const acc of [accs![i]!, all[i]!]) {
        acc.count += count;
        acc.profiles.add(p.profileId);
        acc.sum += sum;
        acc.n += n;
      }
    });
  }
  const valuesOf = (accs: Acc[]) =>
    Object.fromEntries(
      metrics.map((m, i) => {
        const a = accs[i]!;
        return [
          m.id,
          m.aggregate === "count"
            ? a.count
            : m.aggregate === "profiles"
              ? a.profiles.size
              : m.aggregate === "sum"
                ? a.sum
                : a.n
                  ? a.sum / a.n
                  : null,
        ];
      }),
    );
  if (buckets.size > MAX_KEYS) tooManyKeys(dimension.id);
  return {
    rows: [...buckets].map(([key, accs]) => ({ key, values: valuesOf(accs) })),
    totals: valuesOf(all),
  };
}

interface ShapeInput {
  view: string;
  calculated: Pick<CompiledView, "calculated">;
  dimension: { id: string; field: Field };
  metrics: string[];
  baseMetrics: readonly Pick<Metric, "id" | "aggregate">[];
  rows: { key: string; values: Record<string, number | null> }[];
  totals: Record<string, number | null>;
  request: ReportRequest;
}

/** Every time bucket present, calculated metrics added, ordered and limited. */
export function shapeReport({
  view,
  calculated,
  dimension,
  metrics,
  baseMetrics,
  rows,
  totals,
  request,
}: ShapeInput): Report {
  const { range, tz, now, limit } = request;
  const grain: Grain | undefined =
    dimension.field.kind === "time" ? dimension.field.grain : undefined;
  const zero = () =>
    Object.fromEntries(baseMetrics.map((m) => [m.id, m.aggregate === "avg" ? null : 0]));
  const byKey = new Map(rows.map((r) => [r.key, r.values]));
  const keys = grain ? bucketKeys(range, grain, tz) : [...byKey.keys()];
  const pick = (values: Record<string, number | null>) => {
    const all = withCalculated(calculated, values);
    return Object.fromEntries(metrics.map((id) => [id, all[id] ?? null]));
  };
  const past = range.end <= now;
  let items: ReportItem[] = keys.map((key) => ({
    key,
    values: pick(byKey.get(key) ?? zero()),
    complete: grain ? bucketComplete(key, grain, tz, range, now) : past,
  }));
  if (!grain) {
    const first = metrics[0]!;
    items.sort(
      (a, b) =>
        (b.values[first] ?? -Infinity) - (a.values[first] ?? -Infinity) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }
  const truncated = items.length > limit;
  if (truncated) items = items.slice(0, limit);
  return {
    view,
    from: new Date(range.start).toISOString(),
    to: new Date(range.end).toISOString(),
    tz,
    dimension: dimension.id,
    metrics,
    items,
    totals: pick(totals),
    complete: rangeComplete(range, tz, now),
    truncated,
  };
}

/** CSV of a report: one row per item, the dimension then each metric, then `complete`. */
export function reportCsv(report: Report): string {
  const cell = (v: string) => {
    // A leading = + - @ would run as a formula in a spreadsheet: keep it text.
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = [[report.dimension, ...report.metrics, "complete"].map(cell).join(",")];
  for (const item of report.items) {
    lines.push(
      [
        cell(item.key),
        ...report.metrics.map((m) =>
          item.values[m] === null || item.values[m] === undefined ? "" : String(item.values[m]),
        ),
        String(item.complete),
      ].join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}

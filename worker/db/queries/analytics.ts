/**
 * SQL for data view reports. A report is compiled into one aggregate query over `events`
 * (every value bound as a parameter; field paths and in-lists too), so D1 does the
 * scanning and only one row per dimension value comes back. Local days in any time zone
 * come from the zone's offset steps over the range (a CASE of a few branches), so a DST
 * change moves the day boundary exactly.
 */
import { asc, eq } from "drizzle-orm";
import type { Condition, Field, Metric } from "../../model/analytics";
import type { Db } from "../client";
import { dataViews } from "../schema";
import { bulk } from "./json-chunks";
import { rowsOf } from "./reads";

/** Numbered parameters, a repeated value bound once (D1 allows 100 per statement). */
export class Binder {
  readonly values: unknown[] = [];
  private readonly seen = new Map<string, number>();
  bind(value: string | number | null): string {
    const key = `${typeof value}:${String(value)}`;
    let n = this.seen.get(key);
    if (n === undefined) {
      this.values.push(value);
      n = this.values.length;
      this.seen.set(key, n);
    }
    return `?${n}`;
  }
}

const MAX_BOUND_PARAMETERS = 100;

interface SqlField {
  value: string;
  /** SQLite's json_type of the value: 'text', 'integer', 'real', 'true', 'false', 'null', 'object', 'array' or NULL. */
  type: string;
  /** A json_each over the value when it may be an array. */
  each?: string;
}

function sqlField(field: Exclude<Field, { kind: "time" | "profile" }>, b: Binder): SqlField {
  if (field.kind === "type") return { value: "e.type", type: "'text'" };
  if (field.kind === "dataset") return { value: "e.dataset", type: "'text'" };
  const path = b.bind(`$.${field.path}`);
  return {
    value: `json_extract(e.data, ${path})`,
    type: `json_type(e.data, ${path})`,
    each: `json_each(e.data, ${path})`,
  };
}

function scalarTest(f: SqlField, value: unknown, b: Binder): string {
  if (value === null) return `coalesce(${f.type}, 'null') = 'null'`;
  if (typeof value === "boolean") return `${f.type} = '${value ? "true" : "false"}'`;
  if (typeof value === "number")
    return `(${f.type} IN ('integer', 'real') AND ${f.value} = ${b.bind(value)})`;
  return `(${f.type} = 'text' AND ${f.value} = ${b.bind(String(value))})`;
}

/** A condition as SQL, with the segment rules' meaning (types never mix in comparisons). */
function conditionSql(c: Condition, b: Binder): string {
  if (c.field.kind === "profile")
    throw new Error("profile conditions are evaluated on merged profiles");
  const f = sqlField(c.field, b);
  switch (c.op) {
    case "exists":
      return c.value === false
        ? `coalesce(${f.type}, 'null') = 'null'`
        : `coalesce(${f.type}, 'null') != 'null'`;
    case "eq":
      return scalarTest(f, c.value, b);
    case "ne":
      return `NOT coalesce(${scalarTest(f, c.value, b)}, 0)`;
    case "in":
      return `(${(c.value as unknown[]).map((v) => scalarTest(f, v, b)).join(" OR ")})`;
    case "contains": {
      const needle = b.bind(String(c.value));
      const inText = `(${f.type} = 'text' AND instr(lower(${f.value}), lower(${needle})) > 0)`;
      return f.each
        ? `(${inText} OR (${f.type} = 'array' AND EXISTS (SELECT 1 FROM ${f.each} j WHERE j.value = ${b.bind(c.value as string | number)})))`
        : inText;
    }
    case "startsWith": {
      const prefix = b.bind(String(c.value));
      return `(${f.type} = 'text' AND substr(lower(${f.value}), 1, length(${prefix})) = lower(${prefix}))`;
    }
    default: {
      const op = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[c.op];
      const types = typeof c.value === "number" ? "('integer', 'real')" : "('text')";
      return `(${f.type} IN ${types} AND ${f.value} ${op} ${b.bind(c.value as string | number)})`;
    }
  }
}

/** The SQL part of a metric's filter (profile conditions are left to the caller). */
function metricCondition(m: Metric, b: Binder): string | undefined {
  const parts: string[] = [];
  if (m.types)
    parts.push(`e.type IN (SELECT value FROM json_each(${b.bind(JSON.stringify(m.types))}))`);
  for (const c of m.where) if (c.field.kind !== "profile") parts.push(conditionSql(c, b));
  return parts.length ? parts.join(" AND ") : undefined;
}

function numeric(m: Metric, b: Binder): string {
  const f = sqlField(m.field!, b);
  return `CASE WHEN ${f.type} IN ('integer', 'real') THEN ${f.value} END`;
}

const filtered = (aggregate: string, condition: string | undefined) =>
  condition ? `${aggregate} FILTER (WHERE ${condition})` : aggregate;

/** Where a query reads an event's time (ms), type and dataset: `events` rows or rollups. */
interface EventColumns {
  at: string;
  type: string;
  dataset: string;
}
const EVENT_COLUMNS: EventColumns = { at: "e.at", type: "e.type", dataset: "e.dataset" };
const ROLLUP_COLUMNS: EventColumns = {
  at: "(r.hour * 3600000)",
  type: "r.type",
  dataset: "r.dataset",
};

/** The local day (YYYY-MM-DD) of the instant `at` (ms) in a zone given its offset steps. */
export const localDaySql = (
  at: string,
  steps: readonly { until: number | null; offset: number }[],
  b: Binder,
): string => `date(${localTime(at, steps, b)} / 1000, 'unixepoch')`;

/** The local-time expression (ms) of an instant in a zone given its offset steps. */
function localTime(
  at: string,
  steps: readonly { until: number | null; offset: number }[],
  b: Binder,
): string {
  if (steps.length === 1) return `(${at} + ${b.bind(steps[0]!.offset)})`;
  const branches = steps.map((s) =>
    s.until === null
      ? `ELSE ${b.bind(s.offset)}`
      : `WHEN ${at} < ${b.bind(s.until)} THEN ${b.bind(s.offset)}`,
  );
  return `(${at} + CASE ${branches.join(" ")} END)`;
}

function keySql(
  field: Exclude<Field, { kind: "profile" }>,
  steps: readonly { until: number | null; offset: number }[],
  b: Binder,
  columns = EVENT_COLUMNS,
): string {
  if (field.kind === "type") return columns.type;
  if (field.kind === "dataset") return columns.dataset;
  if (field.kind === "time") {
    if (field.grain === "day") return localDaySql(columns.at, steps, b);
    const seconds = `${localTime(columns.at, steps, b)} / 1000`;
    // The Monday of the ISO week: six days back, then forward to a Monday.
    if (field.grain === "week") return `date(${seconds}, 'unixepoch', '-6 days', 'weekday 1')`;
    return `strftime('%Y-%m', ${seconds}, 'unixepoch')`;
  }
  const f = sqlField(field, b);
  return `CASE ${f.type} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE ${f.value} END`;
}

export interface ReportScope {
  start: number;
  end: number;
  datasets?: string[];
  /** The zone's offset steps over the range (for time keys). */
  steps: { until: number | null; offset: number }[];
}

function scopeWhere(scope: ReportScope, metrics: readonly Metric[], b: Binder): string {
  const parts = [`e.at >= ${b.bind(scope.start)}`, `e.at < ${b.bind(scope.end)}`];
  if (scope.datasets)
    parts.push(
      `e.dataset IN (SELECT value FROM json_each(${b.bind(JSON.stringify(scope.datasets))}))`,
    );
  // The scan runs on the (type, at) index: the metrics' own types when every metric names
  // them, else the types the hourly rollups saw in the range (exact, so nothing is missed).
  if (metrics.every((m) => m.types))
    parts.push(
      `e.type IN (SELECT value FROM json_each(${b.bind(JSON.stringify([...new Set(metrics.flatMap((m) => m.types!))]))}))`,
    );
  else
    parts.push(
      `e.type IN (SELECT DISTINCT type FROM event_rollups WHERE hour >= ${b.bind(Math.floor(scope.start / 3_600_000))} AND hour <= ${b.bind(Math.floor(scope.end / 3_600_000))} AND events > 0)`,
    );
  return parts.join(" AND ");
}

function checkParameters(b: Binder) {
  if (b.values.length > MAX_BOUND_PARAMETERS)
    throw new RangeError(
      `the report needs ${b.values.length} parameters; D1 allows ${MAX_BOUND_PARAMETERS}`,
    );
}

interface KeyedValues {
  key: string | null;
  values: (number | null)[];
}

/**
 * Metric values per dimension value, and over the whole range (distinct profiles do not
 * add up across keys, so totals are their own aggregate), in one round trip. At most
 * `maxKeys + 1` keys come back, so the caller can tell the cardinality limit was passed.
 */
export async function aggregateEvents(
  d1: D1Database,
  scope: ReportScope,
  dimension: Exclude<Field, { kind: "profile" }>,
  metrics: readonly Metric[],
  maxKeys: number,
): Promise<{ rows: KeyedValues[]; totals: (number | null)[] }> {
  // Two statements, each with its own parameters (D1 refuses unused ones).
  const statement = (grouped: boolean) => {
    const b = new Binder();
    const columns = metrics.map((m, i) => {
      const condition = metricCondition(m, b);
      const expr =
        m.aggregate === "count"
          ? filtered("count(*)", condition)
          : m.aggregate === "profiles"
            ? filtered("count(DISTINCT i.profile_id)", condition)
            : m.aggregate === "sum"
              ? filtered(`total(${numeric(m, b)})`, condition)
              : filtered(`avg(${numeric(m, b)})`, condition);
      return `${expr} AS m${i}`;
    });
    const join = metrics.some((m) => m.aggregate === "profiles")
      ? "LEFT JOIN identities i ON i.id = e.identity_id"
      : "";
    const key = grouped ? `${keySql(dimension, scope.steps, b)} AS k, ` : "";
    const from = `FROM events e ${join} WHERE ${scopeWhere(scope, metrics, b)}`;
    const tail = grouped ? ` GROUP BY k ORDER BY k LIMIT ${b.bind(maxKeys + 1)}` : "";
    checkParameters(b);
    return d1.prepare(`SELECT ${key}${columns.join(", ")} ${from}${tail}`).bind(...b.values);
  };
  const [grouped, total] = await d1.batch<Record<string, number | string | null>>([
    statement(true),
    statement(false),
  ]);
  const valuesOf = (r: Record<string, number | string | null>) =>
    metrics.map((_, i) => (r[`m${i}`] as number | null) ?? null);
  return {
    rows: grouped!.results.map((r) => ({
      key: r.k === null ? null : String(r.k),
      values: valuesOf(r),
    })),
    totals: total!.results[0] ? valuesOf(total!.results[0]) : metrics.map(() => null),
  };
}

/** Per profile (and dimension value): the pieces each metric is made of, for profile paths. */
interface ProfilePartial {
  profileId: string;
  key: string | null;
  /** Per metric: [events counted, sum of numbers, numbers seen]. */
  parts: [number, number, number][];
}

/**
 * Metric pieces grouped by profile (and the non-profile dimension, if any), so profile
 * attributes can be applied after merging. At most `maxRows + 1` rows come back.
 */
export async function aggregateByProfile(
  d1: D1Database,
  scope: ReportScope,
  dimension: Exclude<Field, { kind: "profile" }> | undefined,
  metrics: readonly Metric[],
  maxRows: number,
): Promise<ProfilePartial[]> {
  const b = new Binder();
  const columns = metrics.flatMap((m, i) => {
    const condition = metricCondition(m, b);
    const number = m.field ? numeric(m, b) : "NULL";
    return [
      `${filtered("count(*)", condition)} AS c${i}`,
      `${filtered(`total(${number})`, condition)} AS s${i}`,
      `${filtered(`count(${number})`, condition)} AS n${i}`,
    ];
  });
  const key = dimension ? keySql(dimension, scope.steps, b) : "NULL";
  const where = scopeWhere(scope, metrics, b);
  const limit = b.bind(maxRows + 1);
  checkParameters(b);
  const { results } = await d1
    .prepare(
      `SELECT i.profile_id AS p, ${key} AS k, ${columns.join(", ")} FROM events e JOIN identities i ON i.id = e.identity_id WHERE ${where} GROUP BY p, k LIMIT ${limit}`,
    )
    .bind(...b.values)
    .all<Record<string, number | string | null>>();
  return results.map((r) => ({
    profileId: String(r.p),
    key: r.k === null ? null : String(r.k),
    parts: metrics.map((_, i) => [
      Number(r[`c${i}`] ?? 0),
      Number(r[`s${i}`] ?? 0),
      Number(r[`n${i}`] ?? 0),
    ]),
  }));
}

/** How many events a range holds, from the hourly rollups (to the hour: enough for a limit). */
export async function countEventsInRange(
  d1: D1Database,
  start: number,
  end: number,
): Promise<number> {
  const row = await d1
    .prepare(`SELECT total(events) AS n FROM event_rollups WHERE hour >= ?1 AND hour < ?2`)
    .bind(Math.floor(start / 3_600_000), Math.ceil(end / 3_600_000))
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * `count` metrics without `where` per time bucket, type or dataset, from the hourly
 * rollups: the range and every offset step must fall on whole hours (the caller checks).
 * One row per key; counts add up, so totals are the sum of the rows.
 */
export async function aggregateRollups(
  d1: D1Database,
  scope: ReportScope,
  dimension: Extract<Field, { kind: "time" | "type" | "dataset" }>,
  metrics: readonly Metric[],
  maxKeys: number,
): Promise<KeyedValues[]> {
  const b = new Binder();
  const columns = metrics.map((m, i) => {
    const condition = m.types
      ? `r.type IN (SELECT value FROM json_each(${b.bind(JSON.stringify(m.types))}))`
      : undefined;
    return `${filtered("total(r.events)", condition)} AS m${i}`;
  });
  const key = keySql(dimension, scope.steps, b, ROLLUP_COLUMNS);
  const where = [
    `r.hour >= ${b.bind(scope.start / 3_600_000)}`,
    `r.hour < ${b.bind(scope.end / 3_600_000)}`,
  ];
  if (scope.datasets)
    where.push(
      `r.dataset IN (SELECT value FROM json_each(${b.bind(JSON.stringify(scope.datasets))}))`,
    );
  if (metrics.every((m) => m.types))
    where.push(
      `r.type IN (SELECT value FROM json_each(${b.bind(JSON.stringify([...new Set(metrics.flatMap((m) => m.types!))]))}))`,
    );
  const limit = b.bind(maxKeys + 1);
  checkParameters(b);
  const { results } = await d1
    .prepare(
      `SELECT ${key} AS k, ${columns.join(", ")} FROM event_rollups r WHERE ${where.join(" AND ")} GROUP BY k ORDER BY k LIMIT ${limit}`,
    )
    .bind(...b.values)
    .all<Record<string, number | string | null>>();
  return results.map((r) => ({
    key: r.k === null ? null : String(r.k),
    values: metrics.map((_, i) => Number(r[`m${i}`] ?? 0)),
  }));
}

interface ProfileFragmentRow {
  profileId: string;
  namespace: string;
  value: string;
  dataset: string;
  attributes: string;
  updatedAt: number;
}

/** The fragments of a set of profiles (for merging their attributes), in one round trip. */
export async function fragmentsOfProfiles(
  d1: D1Database,
  profileIds: readonly string[],
): Promise<ProfileFragmentRow[]> {
  if (profileIds.length === 0) return [];
  const statements = bulk(
    d1,
    `SELECT i.profile_id AS profileId, i.namespace, i.value, f.dataset, f.attributes, f.updated_at AS updatedAt
     FROM json_each(?1) p CROSS JOIN identities i ON i.profile_id = p.value JOIN fragments f ON f.identity_id = i.id`,
    profileIds,
  );
  return rowsOf<ProfileFragmentRow>(await d1.batch(statements));
}

export type DataViewRow = typeof dataViews.$inferSelect;

export async function listDataViews(db: Db): Promise<DataViewRow[]> {
  return db.select().from(dataViews).orderBy(asc(dataViews.id));
}

export async function getDataView(db: Db, id: string): Promise<DataViewRow | undefined> {
  const [row] = await db.select().from(dataViews).where(eq(dataViews.id, id));
  return row;
}

export async function putDataView(
  db: Db,
  id: string,
  name: string,
  definition: Record<string, unknown>,
): Promise<DataViewRow> {
  const now = Date.now();
  const [row] = await db
    .insert(dataViews)
    .values({ id, name, definition, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: dataViews.id, set: { name, definition, updatedAt: now } })
    .returning();
  return row!;
}

export async function deleteDataView(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .delete(dataViews)
    .where(eq(dataViews.id, id))
    .returning({ id: dataViews.id });
  return rows.length > 0;
}

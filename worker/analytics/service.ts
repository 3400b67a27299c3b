/**
 * Data views as the routes need them: a view by id (the built-in journeys view or a
 * stored one, compiled again), and a report over one.
 */
import type { DataViewInput } from "../../shared/schemas/data-views";
import { findMergePolicy } from "../config/service";
import type { Db } from "../db/client";
import { type DataViewRow, getDataView } from "../db/queries/analytics";
import { toPolicy } from "../db/queries/merge-policies";
import { ApiError, orFail } from "../lib/errors";
import { DEFAULT_POLICY } from "../profiles/merge";
import { checkTimeZone, reportRange } from "../reports/time";
import { JOURNEYS_VIEW_ID, journeysView, runJourneysReport } from "./journeys";
import { type Report, type ReportRequest, runViewReport } from "./report";
import { type CompiledView, compileView } from "./view";

export const knownZone = (tz: string) => {
  try {
    orFail(checkTimeZone(tz));
    return true;
  } catch {
    return false;
  }
};

/** A stored view compiled again (checked when written; datasets may have gone since). */
export function compileStored(row: DataViewRow): CompiledView {
  const compiled = compileView(row.id, row.definition as DataViewInput, {
    checkTimeZone: knownZone,
  });
  if (!compiled.ok)
    throw new ApiError(
      "conflict",
      `data view "${row.id}" no longer compiles: ${compiled.details.map((d) => `${d.path}: ${d.message}`).join("; ")}`,
    );
  return compiled.view;
}

async function _findView(db: Db, id: string): Promise<{ view: CompiledView; row?: DataViewRow }> {
  if (id === JOURNEYS_VIEW_ID) return { view: journeysView };
  const row = await getDataView(db, id);
  if (!row) throw new ApiError("not_found", `no data view "${id}"`);
  return { view: compileStored(row), row };
}

export async function findView(
  db: Db,
  id: string,
): Promise<{ view: CompiledView; row?: DataViewRow }> {
  if (id === JOURNEYS_VIEW_ID) return { view: journeysView };
  const row = await getDataView(db, id);
  if (!row) throw new ApiError("not_found", `no data view "${id}"`);
  return { view: compileStored(row), row };
}

/** A report over view `id`: the range and zone default from the view, metrics as listed. */
export async function dataViewReport(
  db: Db,
  id: string,
  q: {
    from?: string | undefined;
    to?: string | undefined;
    tz?: string | undefined;
    dimension?: string | undefined;
    metrics?: string | undefined;
    limit: number;
  },
): Promise<Report> {
  const { view } = await findView(db, id);
  const tz = orFail(checkTimeZone(q.tz ?? view.timezone));
  const now = Date.now();
  const request: ReportRequest = {
    range: orFail(reportRange(q.from, q.to, tz, now)),
    tz,
    now,
    dimension: q.dimension,
    metrics: q.metrics
      ?.split(",")
      .map((m) => m.trim())
      .filter(Boolean),
    limit: q.limit,
  };
  if (view.builtIn) return orFail(await runJourneysReport(db.$client, request));
  const policy = await findMergePolicy(db);
  return orFail(
    await runViewReport(db.$client, view, request, policy ? toPolicy(policy) : DEFAULT_POLICY),
  );
}

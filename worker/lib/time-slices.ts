/**
 * Long reads in short pieces. D1 runs one query at a time, so one 10-second report query
 * holds every write behind it; a report that reads its time range in slices of a few tens
 * of milliseconds lets the writes in between. The slice length adapts to what the last
 * slice cost (aiming at `targetMs`), and the whole read has a budget of database time:
 * a report that would need more is refused with a clear error instead of running on.
 */
import { fail } from "./result";
import { timerTurn } from "./timer-turn";

export interface ReadBudget {
  /** Database time this report may use in total. */
  budgetMs: number;
  /** Database time used so far (shared by the report's reads). */
  spentMs: number;
}

const REPORT_BUDGET_MS = 20_000;
const TARGET_SLICE_MS = 20;
const MIN_SLICE = 60_000;
const MAX_SLICE = 31 * 86_400_000;

export function readBudget(budgetMs = REPORT_BUDGET_MS): ReadBudget {
  return { budgetMs, spentMs: 0 };
}

/**
 * Calls `visit(sliceStart, sliceEnd)` over consecutive slices of [start, end), oldest first,
 * until the range is done or `visit` answers false.
 */
export async function eachSlice(
  start: number,
  end: number,
  budget: ReadBudget,
  visit: (from: number, to: number) => Promise<boolean | void>,
): Promise<void> {
  let from = start;
  let length = 86_400_000;
  while (from < end) {
    const to = Math.min(end, from + length);
    const span = to - from;
    const t0 = performance.now();
    const more = await visit(from, to);
    const ms = Math.max(performance.now() - t0, 0.5);
    budget.spentMs += ms;
    if (budget.spentMs > budget.budgetMs) {
      fail(
        "invalid_request",
        `this report needs more than ${Math.round(budget.budgetMs / 1000)} s of database time; narrow the range`,
        [{ path: "from", message: "narrow the range" }],
      );
    }
    if (more === false) return;
    // Requests that arrived meanwhile start now rather than after the whole report.
    await timerTurn();
    from = to;
    // Next slice: as long as would take TARGET_SLICE_MS at this slice's pace, at most twice as
    // long as this one (an empty stretch says little about the next), within bounds.
    length = Math.min(
      MAX_SLICE,
      2 * span,
      Math.max(MIN_SLICE, Math.round((span * TARGET_SLICE_MS) / ms)),
    );
  }
}

/** The rows `read` answers for each slice, concatenated; stops once `limit` rows came back. */
export async function readInSlices<T>(
  start: number,
  end: number,
  budget: ReadBudget,
  read: (from: number, to: number) => Promise<T[]>,
  limit = Infinity,
): Promise<T[]> {
  const out: T[] = [];
  await eachSlice(start, end, budget, async (from, to) => {
    for (const row of await read(from, to)) out.push(row);
    return out.length < limit;
  });
  return out;
}

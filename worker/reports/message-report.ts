/** The message report's rows for a range: counted in the database, put in rows by the plain aggregation. */
import { messageCounts } from "../db/queries/reports";
import { type ReadBudget, readBudget } from "../lib/time-slices";
import { aggregateMessages, type GroupBy } from "./messages";
import { offsetSteps } from "./time";

export async function messageReport(
  d1: D1Database,
  range: { start: number; end: number },
  groupBy: GroupBy,
  tz: string,
  now: number,
  budget: ReadBudget = readBudget(),
) {
  const counts = await messageCounts(d1, range, offsetSteps(range.start, range.end, tz), budget);
  return aggregateMessages(counts.firsts, counts.retries, range, groupBy, tz, now);
}

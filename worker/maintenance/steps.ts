/**
 * The sizes of a retention step and how a profiles page moves the run's cursor — shared by
 * the run (`retention.ts`, outside the writer) and the step it hands the writer.
 */
import { type MaintenanceCursor, nextShard } from "../model/jobs";

/** Expired events per step: one archive part, deleted in one writer batch with the step's progress. */
export const EVENT_SLICE = 1000;
/** Profiles checked per step. */
export const PROFILE_SLICE = 500;

/** The cursor after a profiles page: where the next page starts, and whether this was the last. */
export function afterProfilesPage(
  cursor: MaintenanceCursor,
  page: { checked: number; after: string },
): MaintenanceCursor {
  if (page.checked >= PROFILE_SLICE) return { ...cursor, after: page.after, phase: "profiles" };
  const walk = nextShard(cursor.walk); // the next shard starts from its beginning
  return walk
    ? { ...cursor, after: "", walk, phase: "profiles" }
    : { ...cursor, after: page.after, phase: "done" };
}

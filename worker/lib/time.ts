export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

const HOUR_MS = 3_600_000;

/**
 * Whether hourly rollups can answer a range in a zone: its bounds and every offset change
 * fall on whole UTC hours (UTC, Europe/…, America/…; not Asia/Kolkata).
 */
export function onWholeHours(
  range: { start: number; end: number },
  steps: readonly { until: number | null; offset: number }[],
): boolean {
  return (
    range.start % HOUR_MS === 0 &&
    range.end % HOUR_MS === 0 &&
    steps.every((s) => s.offset % HOUR_MS === 0 && (s.until === null || s.until % HOUR_MS === 0))
  );
}

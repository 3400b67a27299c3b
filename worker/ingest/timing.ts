import type { IngestCost } from "./service";

/**
 * An ingest call's cost as a standard `Server-Timing` header: validation, the wait for and
 * work in the writer, the steps of its group, and the group's size and D1 round trips
 * (`lane;desc="calls=12 items=12 rt=2"`). The bench reads it; browsers' dev tools show it.
 */
function serverTiming(cost: IngestCost): string {
  const parts = [
    `validate;dur=${cost.validateMs.toFixed(1)}`,
    `writer;dur=${cost.writerMs.toFixed(1)}`,
  ];
  if (cost.lane) {
    for (const [name, ms] of Object.entries(cost.lane.phases))
      parts.push(`${name};dur=${ms.toFixed(1)}`);
    parts.push(
      `lane;desc="calls=${cost.lane.group} items=${cost.lane.items} rt=${cost.lane.roundTrips}"`,
    );
  }
  return parts.join(", ");
}

/** The headers of an ingest answer: its cost, and the consistency token when it reached the writer. */
export function ingestAnswerHeaders(
  c: { header(name: string, value: string): void },
  cost: IngestCost,
): void {
  c.header("Server-Timing", serverTiming(cost));
  if (cost.consistency) c.header("Tessera-Consistency", cost.consistency);
}

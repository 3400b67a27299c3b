/**
 * The analytics shapes the report engine and the data layer share: calendar grains, a data
 * view's parsed fields, conditions and metrics, message counts, conversions and touchpoints.
 * Types only, at the bottom of the layers.
 */
import type { AttributeOp } from "../../shared/schemas/segments";

/** A calendar bucket of local days. */
export type Grain = "day" | "week" | "month";

export type Field =
  | { kind: "type" }
  | { kind: "dataset" }
  | { kind: "data"; path: string }
  | { kind: "profile"; path: string }
  | { kind: "time"; grain: Grain };

export interface Condition {
  field: Exclude<Field, { kind: "time" }>;
  op: AttributeOp;
  value?: unknown;
}

export interface Metric {
  id: string;
  aggregate: "count" | "profiles" | "sum" | "avg";
  /** The numeric `data.<path>` that `sum` and `avg` read. */
  field?: { kind: "data"; path: string };
  types?: string[];
  where: Condition[];
  description?: string;
}

/** Messages whose first event of `type` fell on local `day` (the database counts them; see messageCounts). */
export interface MessageCount {
  type: string;
  day: string;
  channel: string | null;
  journey: string | null;
  count: number;
}

/** Retries (`message.retry`, and `message.sent` with attempt > 1) on local `day`. */
export interface RetryCount {
  day: string;
  channel: string | null;
  journey: string | null;
  count: number;
}

export interface Conversion {
  profileId: string;
  at: number;
  value: number | null;
}

export interface Touch {
  profileId: string;
  at: number;
  messageId: string;
  journey: string;
}

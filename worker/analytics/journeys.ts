/**
 * The built-in `journeys` data view: the messaging metrics with exactly the definitions of
 * `/v1/reports/messages` (one message counted once, retries apart), by journey, channel and
 * time, plus rates as calculated metrics. It cannot be changed; its figures come from the
 * same aggregation as the message report, so the two never disagree.
 */
import type { DataViewInput } from "../../shared/schemas/data-views";
import { conversionFacts } from "../db/queries/reports";
import { fail, type Result, resultOf } from "../lib/result";
import { readBudget } from "../lib/time-slices";
import type { Field } from "../model/analytics";
import { messageReport } from "../reports/message-report";
import type { GroupBy } from "../reports/messages";
import { rangeComplete } from "../reports/time";
import { type AttributionModel, attribute } from "./attribution";
import { parseFormula } from "./formula";
import { type Report, type ReportRequest, resolveRequest, shapeReport } from "./report";
import type { CompiledView } from "./view";

export const JOURNEYS_VIEW_ID = "journeys";

export const MESSAGE_METRICS = {
  sent: "messages whose first attempt is in the bucket (retries excluded)",
  retries: "message.retry events plus message.sent with attempt > 1",
  delivered: "messages with at least one delivery, counted once on the first",
  bounced: "messages that bounced and were never delivered, counted once on the first bounce",
  opened: "messages opened at least once (unique per message)",
  clicked: "messages clicked at least once (unique per message)",
} as const;

const CALCULATED = [
  {
    id: "deliveryRate",
    formula: "delivered / sent",
    description: "delivered messages per message sent",
  },
  {
    id: "openRate",
    formula: "opened / delivered",
    description: "opened messages per delivered message",
  },
  {
    id: "clickThrough",
    formula: "clicked / delivered",
    description: "clicked messages per delivered message",
  },
];

const DIMENSIONS: { id: string; field: string; groupBy: GroupBy }[] = [
  { id: "journey", field: "data.journey", groupBy: "journey" },
  { id: "channel", field: "data.channel", groupBy: "channel" },
  { id: "day", field: "time.day", groupBy: "day" },
  { id: "week", field: "time.week", groupBy: "week" },
  { id: "month", field: "time.month", groupBy: "month" },
];

const fieldOf = (text: string): Field =>
  text.startsWith("time.")
    ? { kind: "time", grain: text.slice(5) as "day" }
    : { kind: "data", path: text.slice(5) };

const definition: DataViewInput & { metrics: { description?: string }[] } = {
  name: "Journeys",
  description:
    "Message delivery and engagement per journey, channel and time, from message.* events.",
  dimensions: DIMENSIONS.map(({ id, field }) => ({ id, field })),
  metrics: Object.entries(MESSAGE_METRICS).map(([id, description]) => ({
    id,
    aggregate: "count" as const,
    filter: { type: [id === "retries" ? "message.retry" : `message.${id}`] },
    description,
  })),
  calculated: CALCULATED.map(({ id, formula, description }) => ({ id, formula, description })),
};

export const journeysView: CompiledView = {
  id: JOURNEYS_VIEW_ID,
  name: definition.name,
  builtIn: true,
  timezone: "UTC",
  dimensions: DIMENSIONS.map(({ id, field }) => ({ id, field: fieldOf(field), text: field })),
  metrics: Object.entries(MESSAGE_METRICS).map(([id, description]) => ({
    id,
    aggregate: "count",
    where: [],
    description,
  })),
  calculated: CALCULATED.map(({ id, formula, description }) => ({
    id,
    formula: parseFormula(formula),
    text: formula,
    description,
  })),
  definition,
};

/** A report over the journeys view, from the message report's aggregation. */
export function runJourneysReport(d1: D1Database, request: ReportRequest): Promise<Result<Report>> {
  return resultOf(() => journeysReport(d1, request));
}

async function journeysReport(d1: D1Database, request: ReportRequest): Promise<Report> {
  const { dimension, metrics } = resolveRequest(journeysView, request);
  const groupBy = DIMENSIONS.find((d) => d.id === dimension.id)!.groupBy;
  const { items, totals } = await messageReport(
    d1,
    request.range,
    groupBy,
    request.tz,
    request.now,
  );
  const values = (r: Record<keyof typeof MESSAGE_METRICS, number>) =>
    Object.fromEntries(
      Object.keys(MESSAGE_METRICS).map((id) => [id, r[id as keyof typeof MESSAGE_METRICS]]),
    );
  return shapeReport({
    view: JOURNEYS_VIEW_ID,
    calculated: journeysView,
    dimension: { id: dimension.id, field: dimension.field },
    metrics,
    baseMetrics: journeysView.metrics,
    rows: items.map((r) => ({ key: r.key, values: values(r) })),
    totals: values(totals),
    request,
  });
}

/** Conversions one attribution report reads at most (and as many touchpoints times ten). */
const MAX_CONVERSIONS = 200_000;

interface AttributionRequest {
  range: { start: number; end: number };
  tz: string;
  now: number;
  conversion: string;
  windowMs: number;
  model: AttributionModel;
  /** A path inside the conversion's data (without `data.`). */
  valuePath?: string;
}

export const ATTRIBUTION_DEFINITIONS = {
  ...MESSAGE_METRICS,
  conversions:
    "conversion events credited to the journey: each conversion in range is shared among the journey messages delivered or clicked within the window before it, under the model",
  conversionValue: "the conversions' value (the number at the value path) credited the same way",
  unattributedConversions:
    "conversions in range with no journey message delivered or clicked within the window before them",
  complete: "false when the range has a partial day",
};

/** Per journey: the message metrics plus the conversions and value attributed to it. */
export function runJourneyAttribution(d1: D1Database, request: AttributionRequest) {
  return resultOf(() => journeyAttribution(d1, request));
}

async function journeyAttribution(d1: D1Database, request: AttributionRequest) {
  const { range, tz, now } = request;
  // One database-time budget for the whole report; its reads run one after another, in slices.
  const budget = readBudget();
  // Only conversions with touchpoints leave the database; the others are counted there.
  const conversion = {
    type: request.conversion,
    start: range.start,
    end: range.end,
    windowMs: request.windowMs,
    valuePath: request.valuePath,
  };
  const facts = await conversionFacts(
    d1,
    conversion,
    (so) => so.count > MAX_CONVERSIONS || so.touches > MAX_CONVERSIONS * 10,
    budget,
  );
  if (facts.count > MAX_CONVERSIONS)
    fail("invalid_request", `more than ${MAX_CONVERSIONS} conversions in range`, [
      { path: "from", message: "narrow the range" },
    ]);
  if (facts.touches.length > MAX_CONVERSIONS * 10)
    fail("invalid_request", "too many journey messages before these conversions", [
      { path: "window", message: "shorten the window or narrow the range" },
    ]);
  const attributed = attribute(facts.conversions, facts.touches, request.windowMs, request.model);
  const credit = {
    ...attributed,
    conversions: facts.count,
    unattributed: facts.count - attributed.attributed,
    value: Math.round(facts.value * 1e9) / 1e9,
  };
  const messages = await messageReport(d1, range, "journey", tz, now, budget);
  const journeys = new Set([...messages.items.map((r) => r.key), ...credit.byJourney.keys()]);
  const items = [...journeys].sort().map((journey) => {
    const m = messages.items.find((r) => r.key === journey);
    const c = credit.byJourney.get(journey);
    return {
      journey,
      sent: m?.sent ?? 0,
      retries: m?.retries ?? 0,
      delivered: m?.delivered ?? 0,
      bounced: m?.bounced ?? 0,
      opened: m?.opened ?? 0,
      clicked: m?.clicked ?? 0,
      conversions: c?.conversions ?? 0,
      conversionValue: c?.value ?? 0,
    };
  });
  const { complete: _, ...messageTotals } = messages.totals;
  return {
    items,
    totals: {
      ...messageTotals,
      conversions: credit.conversions,
      attributedConversions: credit.attributed,
      unattributedConversions: credit.unattributed,
      conversionValue: credit.value,
      attributedValue: credit.attributedValue,
    },
    complete: rangeComplete(range, tz, now),
  };
}

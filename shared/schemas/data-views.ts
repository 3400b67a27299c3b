import { z } from "zod";
import { ATTRIBUTE_OPS } from "./segments";

/** Ids of dimensions and metrics: they name JSON keys and CSV columns. */
const VIEW_ITEM_ID = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const itemId = z.string().regex(VIEW_ITEM_ID, "must match [A-Za-z][A-Za-z0-9_]{0,63}");

/**
 * `type`, `dataset`, `data.<path>`, `profile.<path>` or `time.day|week|month`. Checked in
 * depth (with a message per field) by the data view validator, so a bad field is reported
 * where it is, next to every other problem of the definition.
 */
const field = z.string().min(1).max(200).meta({ example: "data.journey" });

const ViewCondition = z.strictObject({
  field,
  op: z.enum(ATTRIBUTE_OPS),
  value: z.unknown().optional(),
});

const MetricFilter = z.strictObject({
  type: z
    .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, "an event type"))
    .min(1)
    .max(50)
    .optional(),
  where: z.array(ViewCondition).min(1).max(20).optional(),
});

const ViewMetric = z.strictObject({
  id: itemId,
  aggregate: z.enum(["count", "profiles", "sum", "avg"]),
  field: field.optional(),
  filter: MetricFilter.optional(),
});
const CalculatedMetric = z.strictObject({ id: itemId, formula: z.string().min(1).max(500) });

export const DataViewBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(1000).optional(),
    datasets: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, "a dataset name"))
      .min(1)
      .max(50)
      .optional(),
    timezone: z.string().max(64).optional().meta({ example: "Europe/Amsterdam" }),
    dimensions: z
      .array(z.strictObject({ id: itemId, field }))
      .min(1)
      .max(50),
    metrics: z.array(ViewMetric).min(1).max(50),
    calculated: z.array(CalculatedMetric).max(50).optional(),
  })
  .meta({
    id: "DataViewInput",
    example: {
      name: "Purchases",
      datasets: ["web"],
      timezone: "Europe/Amsterdam",
      dimensions: [
        { id: "day", field: "time.day" },
        { id: "sku", field: "data.sku" },
        { id: "tier", field: "profile.loyalty.tier" },
      ],
      metrics: [
        { id: "orders", aggregate: "count", filter: { type: ["purchase"] } },
        { id: "revenue", aggregate: "sum", field: "data.amount", filter: { type: ["purchase"] } },
        { id: "buyers", aggregate: "profiles", filter: { type: ["purchase"] } },
      ],
      calculated: [{ id: "perBuyer", formula: "revenue / buyers" }],
    },
  });
export type DataViewInput = z.infer<typeof DataViewBody>;

/** A view as served: built-in views also describe their metrics. */
export const DataViewSchema = DataViewBody.extend({
  metrics: z.array(ViewMetric.extend({ description: z.string().optional() })),
  calculated: z.array(CalculatedMetric.extend({ description: z.string().optional() })).optional(),
  id: z.string(),
  builtIn: z.boolean(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
}).meta({ id: "DataView" });

const ReportItemSchema = z.object({
  key: z.string(),
  values: z.record(z.string(), z.number().nullable()),
  complete: z.boolean(),
});

export const ReportSchema = z
  .object({
    view: z.string(),
    from: z.string(),
    to: z.string(),
    tz: z.string(),
    dimension: z.string(),
    metrics: z.array(z.string()),
    items: z.array(ReportItemSchema),
    totals: z.record(z.string(), z.number().nullable()),
    complete: z.boolean(),
    /** More keys than `limit`: items are the top ones by the first metric. */
    truncated: z.boolean(),
  })
  .meta({
    id: "DataViewReport",
    example: {
      view: "journeys",
      from: "2026-11-23T00:00:00.000Z",
      to: "2026-11-30T00:00:00.000Z",
      tz: "UTC",
      dimension: "journey",
      metrics: ["sent", "delivered", "clicked", "clickThrough"],
      items: [
        {
          key: "welcome",
          values: { sent: 120, delivered: 118, clicked: 30, clickThrough: 0.254 },
          complete: true,
        },
      ],
      totals: { sent: 120, delivered: 118, clicked: 30, clickThrough: 0.254 },
      complete: true,
      truncated: false,
    },
  });

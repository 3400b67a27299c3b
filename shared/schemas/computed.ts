import { z } from "zod";

export const AGGREGATES = [
  "count",
  "sum",
  "min",
  "max",
  "avg",
  "first",
  "last",
  "mostFrequent",
  "distinctCount",
] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** The dataset of the fragments that hold computed values and states (reserved: no user dataset has this name). */
export const COMPUTED_DATASET = "computed";

/** At most this many computed attributes (SPEC §7). */
export const MAX_COMPUTED_ATTRIBUTES = 50;

export interface ComputedFilter {
  /** Event types counted (any type when absent). */
  type?: string[];
  /** Conditions on the event, all of which must hold; `attr` paths start at the event (`data.currency`, `type`). */
  where?: unknown[];
}

export const ComputedAttributeBody = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .meta({ description: "What the card and the console show (`Lifetime value`)." }),
    aggregate: z.enum(AGGREGATES),
    field: z
      .string()
      .regex(/^data(\.[A-Za-z0-9_-]+)+$/, "a path into the event's data like data.total")
      .max(200)
      .optional()
      .meta({ description: "`data.<path>`: the value aggregated. Required except for `count`." }),
    filter: z
      .strictObject({
        type: z
          .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, "an event type"))
          .min(1)
          .max(50)
          .optional(),
        where: z.array(z.unknown()).min(1).max(20).optional().meta({
          description:
            'Segment rule conditions on the event (`{ attr: "data.currency", op: "eq", value: "EUR" }`), all of which must hold.',
        }),
      })
      .optional(),
    within: z.string().max(40).optional().meta({
      description:
        "ISO-8601 duration (`P90D`): only events this recent count; older ones drop out on the recheck schedule.",
    }),
  })
  .meta({ id: "ComputedAttributeInput" });

export const ComputedAttributeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    aggregate: z.enum(AGGREGATES),
    field: z.string().optional(),
    filter: z
      .object({ type: z.array(z.string()).optional(), where: z.array(z.unknown()).optional() })
      .optional(),
    within: z.string().optional(),
    status: z.enum(["backfilling", "ready"]),
    progress: z.object({
      computedIdentities: z.number().int(),
      totalIdentities: z.number().int().optional(),
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "ComputedAttribute" });

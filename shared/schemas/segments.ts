import { z } from "zod";

export const ATTRIBUTE_OPS = [
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "exists",
  "contains",
  "startsWith",
] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];

export interface AttributeCondition {
  attr: string;
  op: AttributeOp;
  value?: unknown;
}

export interface CountCondition {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
  eq?: number;
}

export interface EventCondition {
  event: string;
  /** ISO-8601 duration, e.g. P30D or PT12H. */
  within?: string;
  count?: CountCondition;
  /** Conditions on the event's data (`attr` is a path inside `data`). */
  where?: Rule;
}

/** A consent condition (SPEC §8): the profile's status for a purpose. */
export interface ConsentCondition {
  consent: string;
  status: "granted" | "denied";
}

export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | AttributeCondition
  | ConsentCondition
  | EventCondition;

const path = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "a dotted attribute path like loyalty.tier")
  .max(200);

export const RuleSchema: z.ZodType<Rule> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(RuleSchema).min(1).max(50) }),
    z.strictObject({ any: z.array(RuleSchema).min(1).max(50) }),
    z.strictObject({ not: RuleSchema }),
    z.strictObject({ attr: path, op: z.enum(ATTRIBUTE_OPS), value: z.unknown().optional() }),
    z.strictObject({
      consent: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, "a purpose id"),
      status: z.enum(["granted", "denied"]),
    }),
    z.strictObject({
      event: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, "an event type"),
      within: z.string().optional(),
      count: z
        .strictObject({
          gte: z.number().int().min(0).optional(),
          gt: z.number().int().min(0).optional(),
          lte: z.number().int().min(0).optional(),
          lt: z.number().int().min(0).optional(),
          eq: z.number().int().min(0).optional(),
        })
        .optional(),
      where: RuleSchema.optional(),
    }),
  ]),
) as z.ZodType<Rule>;

export const SegmentBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    rule: z.unknown().meta({
      description:
        "all / any / not; attribute ops eq ne gt gte lt lte in exists contains startsWith; event conditions { event, within, count, where }; consent conditions { consent, status }",
    }),
    public: z.boolean().default(false),
    description: z.string().max(1000).optional(),
  })
  .meta({ id: "SegmentInput" });

export const SegmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    rule: z.unknown(),
    public: z.boolean(),
    status: z.enum(["evaluating", "ready"]),
    size: z.number().int().optional(),
    evaluatedProfiles: z.number().int(),
    totalProfiles: z.number().int().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Segment" });

/** `PUT /v1/segments/:id?preview=true`: the size the rule would have, nothing saved. */
export const SegmentSizePreviewSchema = z
  .object({
    preview: z.literal(true),
    size: z.number().int().meta({
      description:
        "Profiles the rule matches now: exact when `exact`, else estimated from the sample",
    }),
    exact: z.boolean(),
    sampled: z
      .number()
      .int()
      .meta({ description: "Profiles evaluated (the first 1,000 by id, a random sample)" }),
    matched: z.number().int().meta({ description: "Sampled profiles the rule matches" }),
    totalProfiles: z.number().int(),
  })
  .meta({ id: "SegmentSizePreview" });

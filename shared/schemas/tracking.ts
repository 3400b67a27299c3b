import { z } from "zod";

/** SPEC §2 tracking limits (Segment's own: 32 KB per message, 500 KB per batch call). */
export const TRACKING_LIMITS = {
  messageBytes: 32 * 1024,
  batchBytes: 500 * 1024,
  messagesPerBatch: 1000,
} as const;

export const MESSAGE_TYPES = ["identify", "track", "page", "screen", "group", "alias"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/**
 * A message of the Segment tracking spec (https://segment.com/docs/connections/spec/), as
 * Segment's and RudderStack's SDKs send it. Unknown fields are kept (SDKs add their own).
 */
export const TrackingMessage = z
  .looseObject({
    type: z
      .enum(MESSAGE_TYPES)
      .optional()
      .meta({ description: "Required in a batch; implied by the path of a single call." }),
    messageId: z.string().optional().meta({
      description: "Idempotency key; the same messageId twice is counted as a duplicate.",
    }),
    userId: z.string().optional(),
    anonymousId: z.string().optional(),
    event: z.string().optional().meta({ description: "`track`: the event name." }),
    name: z
      .string()
      .optional()
      .meta({ description: "`page` / `screen`: the page or screen name." }),
    properties: z.record(z.string(), z.unknown()).optional(),
    traits: z.record(z.string(), z.unknown()).optional(),
    groupId: z.string().optional(),
    previousId: z.string().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
    timestamp: z.string().optional().meta({ format: "date-time" }),
    sentAt: z.string().optional().meta({ format: "date-time" }),
  })
  .meta({
    id: "TrackingMessage",
    example: {
      type: "track",
      messageId: "m-1",
      userId: "42",
      event: "Order Completed",
      properties: { total: 30 },
    },
  });
export type TrackingMessage = z.input<typeof TrackingMessage>;

export const TrackingBatch = z
  .looseObject({
    batch: z.array(TrackingMessage).max(TRACKING_LIMITS.messagesPerBatch),
    sentAt: z.string().optional().meta({ format: "date-time" }),
    writeKey: z.string().optional(),
  })
  .meta({
    id: "TrackingBatch",
    example: {
      batch: [{ type: "identify", userId: "42", traits: { email: "ann@example.com" } }],
      sentAt: "2026-11-30T10:00:00Z",
    },
  });
export type TrackingBatch = z.input<typeof TrackingBatch>;

export const TrackingResult = z
  .object({
    success: z.literal(true),
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.array(
      z.object({
        index: z.number().int(),
        error: z.object({ code: z.string(), message: z.string() }),
      }),
    ),
    ignored: z
      .number()
      .int()
      .optional()
      .meta({ description: "Browser messages stored nothing of: the visitor denied `analytics`" }),
    reason: z.literal("consent").optional(),
  })
  .meta({ id: "TrackingResult" });

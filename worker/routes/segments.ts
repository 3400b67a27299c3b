import { z } from "@hono/zod-openapi";
import { listOf, pageLimit, ResourceName } from "../../shared/schemas/common";
import type { Rule } from "../../shared/schemas/segments";
import {
  SegmentBody,
  SegmentSchema,
  SegmentSizePreviewSchema,
} from "../../shared/schemas/segments";
import { saveSegment } from "../config/service";
import { consentSettings } from "../consent/service";
import {
  countProfiles,
  getSegment,
  listSegments,
  type SegmentRow,
  segmentMembers,
  segmentSize,
  segmentSizes,
} from "../db/queries/segments";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { decodeCursor, pageOf } from "../lib/cursor";
import { ApiError } from "../lib/errors";
import { BooleanQuery, errorResponses, jsonBody } from "../lib/openapi";
import { toIso } from "../lib/time";
import type { SegmentJob } from "../model/jobs";
import { profileSummary } from "../profiles/present";
import { previewSegmentSize } from "../segments/preview";
import { validateRule } from "../segments/rules";

const tags = ["Segments"];

function present(s: SegmentRow, size: number | undefined, totalProfiles?: number) {
  return {
    id: s.id,
    name: s.name,
    rule: s.rule,
    public: s.public,
    status: s.status as "evaluating" | "ready",
    ...(size !== undefined ? { size } : {}),
    evaluatedProfiles: s.evaluatedProfiles,
    ...(totalProfiles !== undefined ? { totalProfiles } : {}),
    createdAt: toIso(s.createdAt),
    updatedAt: toIso(s.updatedAt),
  };
}

export const segmentsRouter = createRouter()
  .openapi(
    scopedRoute("segments", {
      operationId: "putSegment",
      method: "put",
      path: "/segments/{id}",
      tags,
      summary:
        "Create or change a segment; every profile is (re)evaluated in the background (`?preview=true`: the size it would have, nothing saved)",
      request: {
        params: z.object({ id: ResourceName }),
        query: z.object({
          preview: BooleanQuery.optional().meta({
            description:
              "`true`: answer how many profiles the rule matches now (exact up to 1,000 profiles, else estimated from a sample of 1,000) and save nothing",
          }),
        }),
        body: jsonBody(SegmentBody),
      },
      responses: {
        200: {
          description:
            "The stored segment (status: evaluating); with `?preview=true` the size the rule would have",
          content: {
            "application/json": { schema: z.union([SegmentSchema, SegmentSizePreviewSchema]) },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const rule = validateRule(body.rule);
      if (!rule.ok)
        throw new ApiError("invalid_request", "the segment rule is not valid", {
          details: rule.details,
        });
      if (c.req.valid("query").preview) {
        const preview = await previewSegmentSize(
          c.var.db.$client,
          rule.rule as Rule,
          await consentSettings(c.var.db),
          Date.now(),
        );
        return c.json({ preview: true as const, ...preview }, 200);
      }
      const total = await countProfiles(c.var.db.$client);
      const stored = await saveSegment(c, {
        id,
        name: body.name,
        rule: rule.rule as Rule,
        public: body.public,
        totalProfiles: total,
      });
      await c.env.JOBS_QUEUE.send({
        kind: "segment-evaluate",
        segmentId: id,
        version: stored.version,
        after: "",
        evaluated: 0,
      } satisfies SegmentJob);
      return c.json(present(stored, await segmentSize(c.var.db.$client, id), total), 200);
    },
  )
  .openapi(
    scopedRoute("segments", {
      operationId: "listSegments",
      method: "get",
      path: "/segments",
      tags,
      summary: "List segments with their sizes",
      responses: {
        200: {
          description: "Segments",
          content: { "application/json": { schema: listOf(SegmentSchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => {
      const [rows, sizes] = await Promise.all([
        listSegments(c.var.db),
        segmentSizes(c.var.db.$client),
      ]);
      return c.json(
        { items: rows.map((s) => present(s, sizes.get(s.id) ?? 0)), nextCursor: null },
        200,
      );
    },
  )
  .openapi(
    scopedRoute("segments", {
      operationId: "getSegment",
      method: "get",
      path: "/segments/{id}",
      tags,
      summary: "One segment with its size and evaluation progress",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: {
          description: "The segment",
          content: { "application/json": { schema: SegmentSchema } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const segment = await getSegment(c.var.db, c.req.valid("param").id);
      if (!segment) throw new ApiError("not_found", `no segment ${c.req.valid("param").id}`);
      const total =
        segment.status === "evaluating" ? await countProfiles(c.var.db.$client) : undefined;
      return c.json(present(segment, await segmentSize(c.var.db.$client, segment.id), total), 200);
    },
  )
  .openapi(
    scopedRoute("segments", {
      operationId: "listSegmentMembers",
      method: "get",
      path: "/segments/{id}/members",
      tags,
      summary: "Profiles realized in the segment",
      request: {
        params: z.object({ id: z.string() }),
        query: z.object({ cursor: z.string().optional(), limit: pageLimit(100, 1000) }),
      },
      responses: {
        200: {
          description: "Members",
          content: {
            "application/json": {
              schema: listOf(
                z.object({
                  profileId: z.string(),
                  displayName: z.string(),
                  primaryIdentity: z.object({ namespace: z.string(), id: z.string() }),
                  since: z.string(),
                }),
              ),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!(await getSegment(c.var.db, id))) throw new ApiError("not_found", `no segment ${id}`);
      const { cursor, limit } = c.req.valid("query");
      const rows = await segmentMembers(
        c.var.db.$client,
        id,
        decodeCursor(cursor, { p: "string" })?.p ?? "",
        limit + 1,
      );
      const present = (r: (typeof rows)[number]) => ({
        ...profileSummary(r),
        since: toIso(r.since),
      });
      return c.json(
        pageOf(rows, limit, present, (last) => ({ p: last.profile_id })),
        200,
      );
    },
  );

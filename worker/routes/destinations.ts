import { z } from "@hono/zod-openapi";
import { listOf, pageLimit, ResourceName } from "../../shared/schemas/common";
import {
  DestinationBody,
  type DestinationConfig,
  RunSchema,
  WebhookDestinationBody,
  type WebhookDestinationConfig,
} from "../../shared/schemas/destinations";
import { removeDestination, saveDestination } from "../config/service";
import {
  type DestinationRow,
  getDestination,
  getRun,
  listDestinations,
  listRuns,
  type PartInfo,
  type RunRow,
} from "../db/queries/exports";
import {
  type DeliveryRow,
  deleteDeliveries,
  insertTestDelivery,
  listDeliveries,
  requeueDeliveries,
  requeueDelivery,
} from "../db/queries/webhooks";
import { putFileDestination } from "../exports/destination";
import { planOf, startExport } from "../exports/run";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { decodeCursor, pageOf } from "../lib/cursor";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { toIso } from "../lib/time";
import { putWebhookDestination } from "../webhooks/destination";
import { announceDeliveries, type WebhookMessage } from "../webhooks/send";
import { signingSecretFor } from "../webhooks/signing";

const tags = ["Destinations"];

const DeliverySchema = z
  .object({
    id: z.string(),
    type: z.string(),
    profileId: z.string(),
    sequence: z.number().int(),
    status: z.enum(["pending", "delivered", "failed", "dead"]),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: "WebhookDelivery" });

const presentDelivery = (d: DeliveryRow) => ({
  id: d.id,
  type: d.type,
  profileId: d.profileId,
  sequence: d.sequence,
  status: d.status as "pending" | "delivered" | "failed" | "dead",
  attempts: d.attempts,
  lastError: d.lastError,
  nextAttemptAt: d.status === "pending" || d.status === "failed" ? toIso(d.nextAttemptAt) : null,
  createdAt: toIso(d.createdAt),
  deliveredAt: d.deliveredAt ? toIso(d.deliveredAt) : null,
});

const DestinationSchema = z
  .object({
    name: z.string(),
    config: z.record(z.string(), z.unknown()),
    lastRunAt: z.string().nullable(),
  })
  .meta({ id: "Destination" });

/** Configuration as stored: credential *names* only, never values. */
const presentDestination = (d: DestinationRow) => ({
  name: d.name,
  config: d.config,
  lastRunAt: d.lastRunAt ? toIso(d.lastRunAt) : null,
});
const presentRun = (r: RunRow) => ({
  runId: r.id,
  destination: r.destination,
  status: r.status as "queued" | "running" | "completed" | "failed",
  trigger: r.trigger,
  profiles: r.rows,
  rows: r.rows,
  content: planOf(r.cursor).content,
  format: planOf(r.cursor).format,
  mode: planOf(r.cursor).mode,
  manifest: r.manifest ?? null,
  parts: r.parts as PartInfo[],
  error: r.error ?? null,
  startedAt: toIso(r.startedAt),
  finishedAt: r.finishedAt ? toIso(r.finishedAt) : null,
});

/** Deliveries one redrive call sends again (a D1 write and 20 queue messages at most). */
const REDRIVE_LIMIT = 1_000;

export const destinationsRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "putDestination",
      method: "put",
      path: "/destinations/{name}",
      tags,
      summary:
        "Create or replace a destination: file exports (r2, s3, azure) or a webhook (streaming activation)",
      request: {
        params: z.object({ name: ResourceName }),
        body: jsonBody(z.union([DestinationBody, WebhookDestinationBody])),
      },
      responses: {
        200: {
          description:
            "Stored. A webhook destination's creation answer carries its `signingSecret` (shown once).",
          content: {
            "application/json": {
              schema: DestinationSchema.extend({ signingSecret: z.string().optional() }),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const body = c.req.valid("json");
      if (body.type === "webhook") {
        const { stored, signingSecret } = await putWebhookDestination(c, name, body);
        return c.json(
          { ...presentDestination(stored), ...(signingSecret ? { signingSecret } : {}) },
          200,
        );
      }
      const stored = await putFileDestination(c, name, body as DestinationConfig);
      return c.json(presentDestination(stored), 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "rotateDestinationSecret",
      method: "post",
      path: "/destinations/{name}/secret",
      tags,
      summary: "Rotate a webhook destination's signing secret; the new one is shown once",
      request: { params: z.object({ name: z.string() }) },
      responses: {
        200: {
          description: "The new secret",
          content: { "application/json": { schema: z.object({ signingSecret: z.string() }) } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const existing = await getDestination(c.var.db, name);
      if (!existing || existing.type !== "webhook")
        throw new ApiError("not_found", `no webhook destination ${name}`);
      const config = existing.config as unknown as WebhookDestinationConfig;
      const next = { ...config, secretVersion: (config.secretVersion ?? 1) + 1 };
      await saveDestination(c, name, next);
      return c.json(
        { signingSecret: await signingSecretFor(c.env, name, next.secretVersion) },
        200,
      );
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "listDestinationDeliveries",
      method: "get",
      path: "/destinations/{name}/deliveries",
      tags,
      summary: "A webhook destination's deliveries, newest first, with attempts and last error",
      request: {
        params: z.object({ name: z.string() }),
        query: z.object({
          status: z.enum(["pending", "delivered", "failed", "dead"]).optional(),
          cursor: z.string().optional(),
          limit: pageLimit(50, 500),
        }),
      },
      responses: {
        200: {
          description: "Deliveries",
          content: { "application/json": { schema: listOf(DeliverySchema) } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const { status, cursor, limit } = c.req.valid("query");
      if (!(await getDestination(c.var.db, name)))
        throw new ApiError("not_found", `no destination ${name}`);
      const rows = await listDeliveries(
        c.var.db.$client,
        name,
        status,
        decodeCursor(cursor, { t: "number", id: "string" }),
        limit + 1,
      );
      return c.json(
        pageOf(rows, limit, presentDelivery, (last) => ({ t: last.createdAt, id: last.id })),
        200,
      );
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "retryDestinationDelivery",
      method: "post",
      path: "/destinations/{name}/deliveries/{id}/retry",
      tags,
      summary: "Send one delivery again (any status)",
      request: { params: z.object({ name: z.string(), id: z.string() }) },
      responses: {
        202: {
          description: "Queued",
          content: {
            "application/json": {
              schema: z.object({ id: z.string(), status: z.literal("pending") }),
            },
          },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { name, id } = c.req.valid("param");
      if (!(await requeueDelivery(c.var.db.$client, name, id, Date.now())))
        throw new ApiError("not_found", `no delivery ${id} of ${name}`);
      await c.env.WEBHOOK_QUEUE.send({
        kind: "webhook-deliver",
        ids: [id],
      } satisfies WebhookMessage);
      return c.json({ id, status: "pending" as const }, 202);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "redriveDestinationDeliveries",
      method: "post",
      path: "/destinations/{name}/deliveries/redrive",
      tags,
      summary: `Send again every dead (or, with \`status=failed\`, every failing) delivery of a destination, oldest first, up to ${REDRIVE_LIMIT} a call`,
      request: {
        params: z.object({ name: z.string() }),
        query: z.object({
          status: z
            .enum(["dead", "failed"])
            .default("dead")
            .meta({ description: "which deliveries to send again (default `dead`)" }),
        }),
      },
      responses: {
        202: {
          description: "Queued: how many, and whether more in that status are left (call again)",
          content: {
            "application/json": {
              schema: z.object({ requeued: z.number().int(), more: z.boolean() }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await getDestination(c.var.db, name)))
        throw new ApiError("not_found", `no destination ${name}`);
      const { ids, more } = await requeueDeliveries(
        c.var.db.$client,
        name,
        c.req.valid("query").status,
        REDRIVE_LIMIT,
        Date.now(),
      );
      await announceDeliveries(
        c.env,
        ids.map((id) => ({ id, destination: name })),
      );
      return c.json({ requeued: ids.length, more }, 202);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "testDestination",
      method: "post",
      path: "/destinations/{name}/test",
      tags,
      summary:
        "Send a test delivery to a webhook destination (`destination.test`, signed like any other; it shows in its deliveries)",
      request: { params: z.object({ name: z.string() }) },
      responses: {
        202: {
          description: "Queued",
          content: {
            "application/json": {
              schema: z.object({ id: z.string(), status: z.literal("pending") }),
            },
          },
        },
        ...errorResponses(401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const destination = await getDestination(c.var.db, name);
      if (!destination) throw new ApiError("not_found", `no destination ${name}`);
      if (destination.config.type !== "webhook")
        throw new ApiError(
          "conflict",
          `${name} is a file destination: run an export with POST /v1/destinations/${name}/runs`,
        );
      const id = await insertTestDelivery(c.var.db.$client, name, Date.now());
      await c.env.WEBHOOK_QUEUE.send({
        kind: "webhook-deliver",
        ids: [id],
      } satisfies WebhookMessage);
      return c.json({ id, status: "pending" as const }, 202);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "listDestinations",
      method: "get",
      path: "/destinations",
      tags,
      summary: "List destinations",
      responses: {
        200: {
          description: "Destinations",
          content: { "application/json": { schema: listOf(DestinationSchema) } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) =>
      c.json(
        { items: (await listDestinations(c.var.db)).map(presentDestination), nextCursor: null },
        200,
      ),
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getDestination",
      method: "get",
      path: "/destinations/{name}",
      tags,
      summary: "One destination",
      request: { params: z.object({ name: z.string() }) },
      responses: {
        200: {
          description: "The destination",
          content: { "application/json": { schema: DestinationSchema } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const d = await getDestination(c.var.db, c.req.valid("param").name);
      if (!d) throw new ApiError("not_found", `no destination ${c.req.valid("param").name}`);
      return c.json(presentDestination(d), 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "deleteDestination",
      method: "delete",
      path: "/destinations/{name}",
      tags,
      summary:
        "Remove a destination: its pending deliveries are dropped (counted in the answer), its run history removed; files already written stay",
      request: { params: z.object({ name: z.string() }) },
      responses: {
        200: {
          description: "Removed",
          content: {
            "application/json": {
              schema: z.object({
                name: z.string(),
                deleted: z.literal(true),
                deliveries: z.object({
                  dropped: z
                    .number()
                    .meta({ description: "Pending or failed deliveries never sent" }),
                  removed: z
                    .number()
                    .meta({ description: "Delivered or dead deliveries (history)" }),
                }),
                runs: z.number(),
              }),
            },
          },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await getDestination(c.var.db, name)))
        throw new ApiError("not_found", `no destination ${name}`);
      const { runs } = await removeDestination(c, name); // the writer stops creating its deliveries
      const deliveries = await deleteDeliveries(c.var.db.$client, name);
      return c.json({ name, deleted: true as const, deliveries, runs }, 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "startDestinationRun",
      method: "post",
      path: "/destinations/{name}/runs",
      tags,
      summary: "Export now (`?retry=<runId>` re-runs a failed run into its own files)",
      request: {
        params: z.object({ name: z.string() }),
        query: z.object({ retry: z.string().optional() }),
      },
      responses: {
        202: {
          description: "Queued",
          content: { "application/json": { schema: z.object({ runId: z.string() }) } },
        },
        ...errorResponses(401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await getDestination(c.var.db, name)))
        throw new ApiError("not_found", `no destination ${name}`);
      const retry = c.req.valid("query").retry;
      if (retry) {
        const run = await getRun(c.var.db, retry);
        if (!run || run.destination !== name)
          throw new ApiError("not_found", `no run ${retry} of ${name}`);
        if (run.status !== "failed")
          throw new ApiError("conflict", "only a failed run can be retried");
      }
      return c.json(
        { runId: await startExport(c.env, name, retry ? "retry" : "manual", retry) },
        202,
      );
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "listDestinationRuns",
      method: "get",
      path: "/destinations/{name}/runs",
      tags,
      summary: "Runs with status, counts, files and errors",
      request: { params: z.object({ name: z.string() }) },
      responses: {
        200: {
          description: "Runs",
          content: { "application/json": { schema: listOf(RunSchema) } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await getDestination(c.var.db, name)))
        throw new ApiError("not_found", `no destination ${name}`);
      return c.json(
        { items: (await listRuns(c.var.db, name)).map(presentRun), nextCursor: null },
        200,
      );
    },
  );

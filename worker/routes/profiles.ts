import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { IdentityParams, listOf, pageLimit, TimeQuery } from "../../shared/schemas/common";
import {
  ProfileQuery,
  ProfileSchema,
  SearchItem,
  TimelineEvent,
} from "../../shared/schemas/profiles";
import { assertMayReadProfile } from "../auth/restrict";
import { profileIdentities } from "../db/queries/graph";
import {
  type ProfileSelector,
  profileExists,
  profileTimeline,
  searchProfiles,
} from "../db/queries/profiles";
import type { AppEnv } from "../env";
import { loadIdentityConfig } from "../graph/identity-config";
import { resolveIdentity } from "../graph/identity-param";
import { auditRead } from "../http/audit";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { decodeCursor, pageOf, parseTime } from "../lib/cursor";
import { ApiError, orFail } from "../lib/errors";
import { errorResponses } from "../lib/openapi";
import { toIso } from "../lib/time";
import { presentEvent, profileSummary } from "../profiles/present";
import { etagMatches, INCLUDES, type Include, readProfile } from "../profiles/service";

const tags = ["Profiles"];

function readOptions(query: z.infer<typeof ProfileQuery>) {
  const include = new Set<Include>();
  for (const part of (query.include ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!INCLUDES.includes(part as Include)) {
      throw new ApiError("invalid_request", `unknown include "${part}"`, {
        details: [{ path: "include", message: `one of ${INCLUDES.join(", ")}` }],
      });
    }
    include.add(part as Include);
  }
  return { mergePolicy: query.mergePolicy, include, eventsLimit: query["events.limit"] };
}

async function respondWithProfile(
  c: Context<AppEnv>,
  selector: ProfileSelector,
  query: z.infer<typeof ProfileQuery>,
  started: number,
) {
  const read = performance.now();
  const result = orFail(await readProfile(c.var.db, selector, readOptions(query)));
  c.header(
    "Server-Timing",
    `resolve;dur=${(read - started).toFixed(1)}, read;dur=${(performance.now() - read).toFixed(1)}`,
  );
  if (!result) throw new ApiError("not_found", "no such profile");
  assertMayReadProfile(
    c,
    result.bundle.identities.map((i) => `${i.namespace}:${i.value}`),
  );
  c.header("ETag", result.etag);
  c.header("Cache-Control", "private, no-cache");
  if (etagMatches(c.req.header("if-none-match"), result.etag)) return c.body(null, 304);
  auditRead(c, "profile.read", result.profileId, result.fields);
  return c.json(result.body, 200);
}

const profileResponses = {
  200: {
    description: "The merged profile (strong ETag)",
    content: { "application/json": { schema: ProfileSchema } },
  },
  304: { description: "Not modified (If-None-Match)" },
  ...errorResponses(400, 401, 403, 404),
};

const SearchQuery = z
  .object({
    q: z
      .string()
      .max(200)
      .optional()
      .meta({ description: "Prefix of an identity value or a name, case-insensitive." }),
    namespace: z.string().optional(),
    segment: z.string().optional(),
    updatedSince: TimeQuery,
    limit: pageLimit(20, 100),
    cursor: z.string().optional(),
  })
  .catchall(z.string())
  .meta({
    description:
      "Also `attr.<path>=<value>` for exact attribute matches, e.g. attr.loyalty.tier=gold.",
  });

export const profilesRouter = createRouter()
  .openapi(
    scopedRoute(
      "profiles:read",
      {
        operationId: "lookupProfile",
        method: "get",
        path: "/profiles/by-identity/{namespace}/{id}",
        tags,
        summary: "Look a profile up by any of its identities",
        request: { params: IdentityParams, query: ProfileQuery },
        responses: profileResponses,
      },
      { identityReadable: true },
    ),
    async (c) => {
      const started = performance.now();
      const { namespace, id } = c.req.valid("param");
      const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
      return respondWithProfile(
        c,
        { identity: orFail(resolveIdentity(config, namespace, id)) },
        c.req.valid("query"),
        started,
      );
    },
  )
  .openapi(
    scopedRoute(
      "profiles:read",
      {
        operationId: "getProfile",
        method: "get",
        path: "/profiles/{profileId}",
        tags,
        summary: "A profile by its id",
        request: { params: z.object({ profileId: z.string() }), query: ProfileQuery },
        responses: profileResponses,
      },
      { identityReadable: true },
    ),
    async (c) =>
      respondWithProfile(
        c,
        { profileId: c.req.valid("param").profileId },
        c.req.valid("query"),
        performance.now(),
      ),
  )
  .openapi(
    scopedRoute("profiles:read", {
      operationId: "searchProfiles",
      method: "get",
      path: "/profiles",
      tags,
      summary:
        "Search profiles (prefix on identities and names; exact attributes; segment; updated since)",
      description: [
        "Filters combine with AND. Besides the parameters below, any number of **attribute filters** `attr.<path>=<value>`",
        "match profiles that hold a record whose attribute at that dotted path equals the value exactly,",
        "e.g. `?attr.loyalty.tier=gold&attr.address.city=Haarlem`. A path is dotted names of `[A-Za-z0-9_-]`.",
      ].join(" "),
      request: { query: SearchQuery },
      "x-tessera-pattern-parameters": [
        {
          in: "query",
          pattern: "^attr\\.[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$",
          schema: { type: "string" },
          description: "Exact match on a record attribute at <path>.",
          example: "attr.loyalty.tier=gold",
        },
      ],
      responses: {
        200: {
          description: "Matches, newest first",
          content: { "application/json": { schema: listOf(SearchItem) } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const attributes = Object.entries(c.req.queries())
        .filter(([key]) => key.startsWith("attr."))
        .flatMap(([key, values]) => values.map((v) => [key.slice(5), v] as [string, string]));
      const limit = query.limit;
      const after = decodeCursor(query.cursor, { u: "number", i: "string" });
      const rows = await searchProfiles(c.var.db.$client, {
        q: query.q?.trim() || undefined,
        namespace: query.namespace,
        attributes,
        segment: query.segment,
        updatedSince: parseTime(query.updatedSince, "updatedSince"),
        limit: limit + 1,
        after: after && { updatedAt: after.u, id: after.i },
      });
      auditRead(c, "profile.search", null, ["displayName", "primaryIdentity"]);
      const present = (r: (typeof rows)[number]) => ({
        ...profileSummary({ profile_id: r.id, ...r }),
        updatedAt: toIso(r.updated_at),
      });
      return c.json(
        pageOf(rows, limit, present, (last) => ({ u: last.updated_at, i: last.id })),
        200,
      );
    },
  )
  .openapi(
    scopedRoute(
      "profiles:read",
      {
        operationId: "listProfileEvents",
        method: "get",
        path: "/profiles/{profileId}/events",
        tags,
        summary: "The profile's event timeline across all its identities, newest first",
        request: {
          params: z.object({ profileId: z.string() }),
          query: z.object({
            type: z.string().optional(),
            from: TimeQuery,
            to: TimeQuery,
            cursor: z.string().optional(),
            limit: pageLimit(50, 500),
          }),
        },
        responses: {
          200: {
            description: "Events",
            content: { "application/json": { schema: listOf(TimelineEvent) } },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
      { identityReadable: true },
    ),
    async (c) => {
      const { profileId } = c.req.valid("param");
      const query = c.req.valid("query");
      if (!(await profileExists(c.var.db.$client, profileId)))
        throw new ApiError("not_found", `no profile ${profileId}`);
      if (c.var.principal.identity) {
        const members = await profileIdentities(c.var.db.$client, profileId);
        assertMayReadProfile(
          c,
          members.map((m) => `${m.namespace}:${m.value}`),
        );
      }
      const limit = query.limit;
      const before = decodeCursor(query.cursor, { a: "number", i: "string" });
      const rows = await profileTimeline(c.var.db.$client, profileId, {
        type: query.type,
        from: parseTime(query.from, "from"),
        to: parseTime(query.to, "to"),
        before: before && { at: before.a, id: before.i },
        limit: limit + 1,
      });
      auditRead(c, "profile.events", profileId, ["events"]);
      return c.json(
        pageOf(rows, limit, presentEvent, (last) => ({ a: last.at, i: last.id })),
        200,
      );
    },
  );

/**
 * Consent per purpose (SPEC §8): the settings (purposes, defaults, GPC, the conflict rule,
 * the tracking-category map) and choices recorded through the API. Browsers record theirs
 * through /v1/collect and /v1/context, tracking calls through `context.consent`.
 */
import { z } from "@hono/zod-openapi";
import { ConsentBody, ConsentSettingsBody, ProfileConsent } from "../../shared/schemas/consent";
import { saveSetting } from "../config/service";
import { consentSettings, presentConsent, readProfileConsent } from "../consent/service";
import { scopedRoute } from "../http/route";
import { createRouter } from "../http/router";
import { validationContext } from "../ingest/service";
import { validateConsent } from "../ingest/validate";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonBody } from "../lib/openapi";
import { ingestCommand } from "../writer/client";

const tags = ["Consent"];

export const consentRouter = createRouter()
  .openapi(
    scopedRoute("admin", {
      operationId: "putConsentSettings",
      method: "put",
      path: "/settings/consent",
      tags,
      summary: "Consent purposes (default, GPC), the conflict rule and the tracking-category map",
      request: { body: jsonBody(ConsentSettingsBody) },
      responses: {
        200: {
          description: "The settings in force (with the built-in purposes)",
          content: { "application/json": { schema: ConsentSettingsBody } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const ids = body.purposes.map((p) => p.id);
      const twice = ids.find((id, i) => ids.indexOf(id) !== i);
      if (twice)
        throw new ApiError("invalid_request", `purpose "${twice}" is listed twice`, {
          details: [{ path: `purposes[${ids.lastIndexOf(twice)}].id`, message: "listed twice" }],
        });
      const all = new Set([...ids, "analytics", "personalization", "marketing"]);
      const stray = Object.entries(body.categories ?? {}).find(([, purpose]) => !all.has(purpose));
      if (stray)
        throw new ApiError(
          "invalid_request",
          `category "${stray[0]}" maps to an unknown purpose "${stray[1]}"`,
          { details: [{ path: `categories.${stray[0]}`, message: "not a purpose" }] },
        );
      await saveSetting(c, "consent", body);
      return c.json(await consentSettings(c.var.db), 200);
    },
  )
  .openapi(
    scopedRoute("admin", {
      operationId: "getConsentSettings",
      method: "get",
      path: "/settings/consent",
      tags,
      summary: "The consent settings in force",
      responses: {
        200: {
          description: "Settings",
          content: { "application/json": { schema: ConsentSettingsBody } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json(await consentSettings(c.var.db), 200),
  )
  .openapi(
    scopedRoute("ingest", {
      operationId: "recordConsent",
      method: "post",
      path: "/consent",
      tags,
      summary:
        "Record consent choices for identities (kept with their time and source; a change is a new record)",
      request: { body: jsonBody(ConsentBody) },
      responses: {
        200: {
          description: "The profile's consent after the choices",
          content: {
            "application/json": {
              schema: z.object({ profileId: z.string(), consent: ProfileConsent }),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const receivedAt = Date.now();
      const [ctx, settings] = await Promise.all([
        validationContext(c.env, c.var.db, "consent", receivedAt),
        consentSettings(c.var.db),
      ]);
      const item = validateConsent(body, ctx, new Set(settings.purposes.map((p) => p.id)));
      if (!item.ok)
        throw new ApiError(item.error.code, item.error.message, { details: item.error.details });
      const applied = await ingestCommand(c.env, {
        items: [item.item],
        atomic: true,
        receivedAt,
      });
      const outcome = applied.outcomes[0]!;
      if (outcome.status === "rejected")
        throw new ApiError(outcome.error.code, outcome.error.message, {
          details: outcome.error.details,
        });
      if (outcome.status !== "accepted")
        throw new ApiError("internal_error", "the consent was not recorded");
      if (applied.consistency) c.header("Tessera-Consistency", applied.consistency);
      const consent = await readProfileConsent(c.var.db.$client, settings, outcome.profileId);
      return c.json({ profileId: outcome.profileId, consent: presentConsent(consent) }, 200);
    },
  );

import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { authenticate } from "./auth/middleware";
import type { AppEnv } from "./env";
import { gunzipRequests } from "./lib/body";
import { ApiError, codeForStatus, ERROR_STATUS, errorBody } from "./lib/errors";
import { validationHook } from "./lib/validation";
import { reportSlot } from "./reports/gate";
import { adminRouter } from "./routes/admin";
import { auditRouter } from "./routes/audit";
import { batchesRouter } from "./routes/batches";
import { computedRouter } from "./routes/computed";
import { configRouter } from "./routes/config";
import { consentRouter } from "./routes/consent";
import { dataViewsRouter } from "./routes/data-views";
import { destinationsRouter } from "./routes/destinations";
import { docsRouter, OPENAPI_DOCUMENT } from "./routes/docs";
import { graphRouter } from "./routes/graph";
import { healthRouter } from "./routes/health";
import { ingestRouter } from "./routes/ingest";
import { keysRouter } from "./routes/keys";
import { maintenanceRouter } from "./routes/maintenance";
import { mergePoliciesRouter } from "./routes/merge-policies";
import { metricsRouter } from "./routes/metrics";
import { pagesRouter } from "./routes/pages";
import { personalizationRouter } from "./routes/personalization";
import { privacyRouter } from "./routes/privacy";
import { profilesRouter } from "./routes/profiles";
import { readSession } from "./routes/read-session";
import { reportsRouter } from "./routes/reports";
import { segmentsRouter } from "./routes/segments";
import { settingsRouter } from "./routes/settings";
import { trackingRouter } from "./routes/tracking";

/** JSON bodies: 1,000 items of at most 32 KB each (SPEC limits) plus envelope. */
const JSON_BODY_LIMIT = 33 * 1024 * 1024;

/** Routes that check their own body size and content type (files; browser beacons). */
const FILE_ROUTES = /^\/v1\/(batches|collect)(\?|$)/;
/** The tracking API reads JSON whatever the Content-Type (SDKs send text/plain, form types…). */
const TRACKING_ROUTES = /^\/v1\/(batch|identify|track|page|screen|group|alias|[tpisgab])$/;

function onError(err: Error, c: Context<AppEnv>) {
  const requestId = c.get("requestId");
  if (err instanceof ApiError) {
    return c.json(
      errorBody(err.code, err.message, err.details, requestId),
      ERROR_STATUS[err.code],
      err.headers,
    );
  }
  if (err instanceof HTTPException) {
    // Hono's own middleware (body limit, malformed JSON…): same shape, same vocabulary.
    const code =
      err.status === 400 && /json/i.test(err.message) ? "invalid_json" : codeForStatus(err.status);
    return c.json(errorBody(code, err.message || code, undefined, requestId), ERROR_STATUS[code]);
  }
  // Unknown failure: log the message (never request bodies or keys), answer generically.
  console.error(`[${requestId}] unhandled error:`, err.message);
  return c.json(
    errorBody("internal_error", "Something went wrong on our side.", undefined, requestId),
    500,
  );
}

/** 415 unless a body-carrying /v1 request says it is JSON. */
function requireJsonBodies() {
  return async (c: Context<AppEnv>, next: () => Promise<void>) => {
    const method = c.req.method;
    if (
      (method === "POST" || method === "PUT" || method === "PATCH") &&
      !FILE_ROUTES.test(c.req.path) &&
      !TRACKING_ROUTES.test(c.req.path)
    ) {
      const hasBody = c.req.header("content-length") !== "0" && c.req.raw.body !== null;
      const type = c.req.header("content-type") ?? "";
      if (hasBody && !/^application\/([a-z.+-]+\+)?json\b/i.test(type)) {
        throw new ApiError(
          "unsupported_media_type",
          "Send JSON with `Content-Type: application/json`.",
        );
      }
    }
    await next();
  };
}

/** One app: global middleware, error handling and every router. Tests use the same. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook, strict: false });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key (`sk_…`), a token, or the TESSERA_ADMIN_KEY secret.",
  });

  // Order: request id → secure headers → CORS → body limits → auth/scope → handler.
  app.use("*", requestId());
  const defaultHeaders = secureHeaders({
    // The widget and the public endpoints are used from other sites.
    crossOriginResourcePolicy: "cross-origin",
    crossOriginOpenerPolicy: false,
  });
  // The embeddable card is meant for iframes: its CSP's frame-ancestors decides where.
  const embedHeaders = secureHeaders({
    crossOriginResourcePolicy: "cross-origin",
    crossOriginOpenerPolicy: false,
    xFrameOptions: false,
  });
  app.use("*", (c, next) =>
    c.req.path.startsWith("/embed/") ? embedHeaders(c, next) : defaultHeaders(c, next),
  );
  // The request's data handle: a D1 session as fresh as the request needs (./routes/read-session.ts).
  app.use("*", readSession());
  app.use(
    "/v1/*",
    cors({
      origin: (origin) => origin,
      allowHeaders: [
        "Authorization",
        "Content-Type",
        "If-None-Match",
        "X-Tessera-Device",
        "X-Tessera-Identity-Token",
        "Tessera-Consistency",
      ],
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      exposeHeaders: [
        "ETag",
        "X-Request-Id",
        "Retry-After",
        "Server-Timing",
        "Tessera-Consistency",
      ],
      maxAge: 600,
    }),
  );
  // gzip bodies are decoded first, so the body limit counts decompressed bytes (SPEC §2).
  app.use("/v1/*", gunzipRequests(/^\/v1\/batches$/));
  app.use("/v1/*", async (c, next) => {
    if (FILE_ROUTES.test(c.req.path)) return next();
    return bodyLimit({
      maxSize: JSON_BODY_LIMIT,
      onError: () => {
        throw new ApiError(
          "payload_too_large",
          `JSON bodies are limited to ${JSON_BODY_LIMIT} bytes; send large files to /v1/batches.`,
        );
      },
    })(c, next);
  });
  app.use("/v1/*", requireJsonBodies());
  app.use("/v1/*", authenticate);
  // Reports share the database with every write: a few at a time per key.
  app.use("/v1/reports/*", reportSlot);
  app.use("/v1/data-views/:id/report", reportSlot);

  // Chained, so the app's type carries every route: `hc<AppType>` (client/) is typed by it.
  const routes = app
    .route("/", healthRouter)
    .route("/v1", keysRouter)
    .route("/v1", configRouter)
    .route("/v1", ingestRouter)
    .route("/v1", trackingRouter)
    .route("/v1", graphRouter)
    .route("/v1", batchesRouter)
    .route("/v1", privacyRouter)
    .route("/v1", auditRouter)
    .route("/v1", profilesRouter)
    .route("/v1", mergePoliciesRouter)
    .route("/v1", segmentsRouter)
    .route("/v1", computedRouter)
    .route("/v1", consentRouter)
    .route("/v1", personalizationRouter)
    .route("/v1", settingsRouter)
    .route("/v1", metricsRouter)
    .route("/v1", reportsRouter)
    .route("/v1", dataViewsRouter)
    .route("/v1", maintenanceRouter)
    .route("/v1", destinationsRouter)
    .route("/v1", adminRouter)
    .route("/", pagesRouter)
    .route(
      "/",
      docsRouter(() => app.getOpenAPI31Document(OPENAPI_DOCUMENT)),
    );

  app.notFound((c) =>
    onError(new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`), c),
  );
  app.onError(onError);
  return routes;
}

/** The whole API as a type: every route, its inputs and its answers (see client/). */
export type AppType = ReturnType<typeof createApp>;

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { renderDocsPage } from "../lib/docs-page";

export const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "Tessera API",
    version: "0.1.0",
    description:
      "Real-time customer profiles at the edge: ingest records and events, resolve identities into one profile, look up, search and erase.",
  },
};

/**
 * Serves `/v1/openapi.json` (OpenAPI 3.1, generated from the same zod schemas that
 * validate requests) and `/docs`, a readable page rendered from that document.
 */
export function mountDocs(app: OpenAPIHono<AppEnv>) {
  app.get("/docs", (c) => c.html(renderDocsPage(app.getOpenAPI31Document(OPENAPI_INFO))));
}

import { Hono } from "hono";
import { requireScope } from "../auth/middleware";
import type { AppEnv } from "../env";
import { renderDocsPage } from "../lib/docs-page";
import { withExamples } from "../openapi/examples";

/** The document's fixed parts; `servers` is this deployment's own origin, added per request. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Tessera API",
    version: "0.1.0",
    description:
      "Real-time customer profiles at the edge: ingest records and events, resolve identities into one profile, look up, search and erase.",
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
} as const;

type Document = object;

/** The page has no script; it may load only its own stylesheet. */
const DOCS_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The document as this deployment serves it: its own origin is the one server. */
function forOrigin(doc: Document, origin: string): Document {
  return { ...doc, servers: [{ url: origin, description: "This Tessera deployment" }] };
}

/**
 * `/v1/openapi.json` (OpenAPI 3.1, generated from the same zod schemas that validate
 * requests) and `/docs`, a reference page rendered on the server from that document.
 */
export function docsRouter(document: () => Document) {
  // The routes do not change after start: generate the document and merge its examples
  // once per isolate, not on every request; only `servers` depends on the request.
  let built: Document | undefined;
  const forRequest = (url: string) =>
    forOrigin((built ??= withExamples(document())), new URL(url).origin);
  return new Hono<AppEnv>()
    .get("/v1/openapi.json", requireScope("anonymous"), (c) => c.json(forRequest(c.req.url)))
    .get("/docs", (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      return c.html(renderDocsPage(forRequest(c.req.url)));
    });
}

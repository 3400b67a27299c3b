/**
 * Pages and demo endpoints outside /v1: the iframe-able profile card, and the demo
 * shop's own "back end" (enabled only with TESSERA_DEMO=true, as `npm start` does).
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { sign } from "hono/jwt";
import { hashKey, keyPrefix, newKeyId, newPublicKey } from "../auth/keys";
import { siteSecretFor } from "../auth/signing";
import { saveSetting } from "../config/service";
import { findApiKeyById, insertApiKey } from "../db/queries/keys";
import { getSetting } from "../db/queries/settings";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";

/** `frame-ancestors` for /embed/card: TESSERA_EMBED_ANCESTORS (space-separated), default same-origin only. */
function embedCsp(ancestors: string | undefined): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    `frame-ancestors ${ancestors?.trim() || "'self'"}`,
  ].join("; ");
}

export const pagesRouter = new Hono<AppEnv>()
  .get("/embed/card", (c) => {
    const identity = c.req.query("identity") ?? "";
    const token = c.req.query("token") ?? "";
    const lang = c.req.query("lang") === "nl" ? "nl" : "en";
    const theme = c.req.query("theme") === "dark" ? "dark" : "light";
    c.header("Content-Security-Policy", embedCsp(c.env.TESSERA_EMBED_ANCESTORS));
    c.header("Cache-Control", "private, no-store");
    c.header("Referrer-Policy", "no-referrer");
    // Every value is escaped by `html`; the card renders data as text.
    return c.html(html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera profile</title>
<link rel="stylesheet" href="/embed.css">
<script type="module" src="/widget.js"></script>
</head>
<body class="${theme}">
<main>
<h1 class="visually-hidden">Customer profile</h1>
<tessera-profile-card identity="${identity}" token="${token}" theme="${theme}"></tessera-profile-card>
</main>
</body>
</html>`);
  })
  .use("/demo/*", async (c, next) => {
    if (c.env.TESSERA_DEMO !== "true")
      throw new ApiError("not_found", "the demo is not enabled on this deployment");
    await next();
  })
  .get("/demo/config", async (c) => {
    const origin = new URL(c.req.url).origin;
    let demo = await getSetting(c.var.db, "demo");
    if (!demo || !(await findApiKeyById(c.var.db, demo.keyId))) {
      // The demo site's public key. A public key is meant to be embedded in pages, so
      // keeping it readable here (for the demo only) gives nothing away.
      const key = newPublicKey();
      const keyId = newKeyId();
      const port = new URL(origin).port;
      const origins = [
        ...new Set([origin, `http://localhost:${port}`, `http://127.0.0.1:${port}`]),
      ];
      await insertApiKey(c.var.db, {
        id: keyId,
        name: "demo site",
        kind: "public",
        keyHash: await hashKey(key),
        keyPrefix: keyPrefix(key),
        scopes: [],
        origins,
        createdAt: Date.now(),
      });
      demo = { keyId, key };
      await saveSetting(c, "demo", demo);
    }
    return c.json({
      key: demo.key,
      customers: [
        { crm: "CUST-10000", name: "John Greene (gold)" },
        { crm: "CUST-10001", name: "A frequent buyer (silver)" },
      ],
    });
  })
  .post("/demo/login", async (c) => {
    // What a real site's back end does: sign the logged-in customer's identity with the
    // site secret. The browser never sees the secret, only the short-lived token.
    const { customer } = await c.req.json<{ customer?: string }>();
    if (!customer || !/^CUST-\d+$/.test(customer))
      throw new ApiError("invalid_request", "customer must be a demo customer id like CUST-10000");
    const demo = await getSetting(c.var.db, "demo");
    if (!demo) throw new ApiError("conflict", "load /demo/config first");
    const now = Math.floor(Date.now() / 1000);
    const identityToken = await sign(
      { sub: `crm:${customer}`, iat: now, exp: now + 600 },
      await siteSecretFor(c.env, demo.keyId),
      "HS256",
    );
    return c.json({ identityToken });
  });

import { describe, expect, it } from "vitest";
import { grants, SCOPES, type Scope } from "../../shared/scopes";
import { createApp } from "../../worker/app";
import { declaredAccess } from "../../worker/auth/middleware";
import { call, createKey } from "../helpers";

/** Every `/v1` route the app registers, with the access it declares. */
function v1Routes() {
  const app = createApp();
  const byRoute = new Map<string, { method: string; path: string; access?: string }>();
  for (const route of app.routes) {
    if (!route.path.startsWith("/v1") || route.method === "ALL") continue;
    const id = `${route.method} ${route.path}`;
    const entry = byRoute.get(id) ?? { method: route.method, path: route.path };
    entry.access ??= declaredAccess(route.handler);
    byRoute.set(id, entry);
  }
  return [...byRoute.values()];
}

const routes = v1Routes();

describe("scope enforcement on every /v1 route", () => {
  it("finds the routes", () => {
    expect(routes.length).toBeGreaterThan(3);
  });

  it("every /v1 route declares a scope", () => {
    const missing = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  for (const route of routes.filter((r) => r.access && r.access !== "anonymous")) {
    const access = route.access!;
    const path = route.path.replace(/:([A-Za-z]+)/g, "x");
    const body = route.method === "GET" ? undefined : {};

    it(`${route.method} ${route.path} needs a key (401) and \`${access}\` (403 otherwise)`, async () => {
      const anonymous = await call(route.method, path, { key: null, body });
      expect(anonymous).toHaveStatus(401);
      expect(anonymous.json.error.code).toBe("unauthorized");

      let key: string;
      if (access === "public") {
        key = await createKey(["admin"]); // a secret key, even admin, is not a public key
      } else if (access === "tracking") {
        key = await createKey(["profiles:read"]); // the tracking API needs `ingest` (or a public key)
      } else if (access === "secret") {
        const res = await call("POST", "/v1/keys", {
          body: { name: "pk", kind: "public", origins: ["https://shop.example"] },
        });
        key = res.json.key;
      } else {
        const otherScopes = SCOPES.filter((s) => !grants([s], access as Scope));
        key = await createKey(otherScopes.length ? [otherScopes[0]!] : ["ingest"]);
      }
      const wrong = await call(route.method, path, {
        key,
        body,
        headers: { origin: "https://shop.example" },
      });
      expect(wrong).toHaveStatus(403);
      expect(wrong.json.error.code).toBe("forbidden");
    });
  }
});

describe("a /v1 route without a declared scope", () => {
  it("is refused even with the admin key (fails closed)", async () => {
    const app = createApp();
    app.get("/v1/forgotten-scope", (c) => c.json({ leaked: true }));
    const { env } = await import("cloudflare:test");
    const res = await app.request(
      "/v1/forgotten-scope",
      { headers: { authorization: `Bearer ${env.TESSERA_ADMIN_KEY}` } },
      env,
    );
    expect(res).toHaveStatus(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
  });
});

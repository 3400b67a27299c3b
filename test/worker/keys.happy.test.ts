import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, apiClient, createKey, send, unwrap } from "../helpers";

describe("API keys", () => {
  it("creates a secret key shown once, lists it without the secret, and deletes it", async () => {
    const created = await send(
      api.v1.keys.$post({
        json: { name: "crm sync", kind: "secret", scopes: ["ingest", "profiles:read"] },
      }),
    );
    expect(created).toHaveStatus(201);
    expect(created.json).toMatchObject({
      name: "crm sync",
      kind: "secret",
      scopes: ["ingest", "profiles:read"],
      origins: [],
    });
    expect(created.json.id).toMatch(/^key_/);
    expect(created.json.key).toMatch(/^sk_[A-Za-z0-9]{40}$/);

    // The key works for its scope.
    const list = await send(api.v1.keys.$get());
    expect(list).toHaveStatus(200);
    const listed = list.json.items.find((k) => k.id === created.json.id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(list.json)).not.toContain(created.json.key);
    expect(listed?.keyPrefix).toBe(`${created.json.key.slice(0, 7)}…`);
    expect(list.json.nextCursor).toBeNull();

    const del = await send(api.v1.keys[":id"].$delete({ param: { id: created.json.id } }));
    expect(del).toHaveStatus(204);
    const after = await send(api.v1.keys.$get());
    expect(after.json.items.some((k) => k.id === created.json.id)).toBe(false);
  });

  it("records when a key was last used, to the minute", async () => {
    const created = await unwrap(
      api.v1.keys.$post({ json: { name: "reader", kind: "secret", scopes: ["profiles:read"] } }),
    );
    const listed = async () =>
      (await unwrap(api.v1.keys.$get())).items.find((k) => k.id === created.id)!;
    expect((await listed()).lastUsedAt).toBeNull();

    const before = Date.now();
    const reader = apiClient(created.key);
    const answer = await reader.v1.profiles.$get({ query: {} });
    expect(answer).toHaveStatus(200);
    const first = (await listed()).lastUsedAt;
    expect(first).not.toBeNull();
    expect(Date.parse(first!)).toBeGreaterThanOrEqual(before - 1);

    // Within the same minute another call writes nothing new.
    await reader.v1.profiles.$get({ query: {} });
    expect((await listed()).lastUsedAt).toBe(first);
  });

  it("stores only a SHA-256 hash of the key, never the key", async () => {
    const key = await createKey(["ingest"]);
    const rows = await env.DB.prepare("SELECT * FROM api_keys").all<Record<string, unknown>>();
    const dump = JSON.stringify(rows.results);
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.slice(3)); // not even without its prefix
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(rows.results.some((r) => r.key_hash === hex)).toBe(true);
  });

  it("a deleted key stops working at once", async () => {
    const created = await send(api.v1.keys.$post({ json: { name: "temp", scopes: ["admin"] } }));
    const key = created.json.key;
    expect(await send(apiClient(key).v1.keys.$get())).toHaveStatus(200);
    await send(api.v1.keys[":id"].$delete({ param: { id: created.json.id } }));
    const res = await send(apiClient(key).v1.keys.$get());
    expect(res).toHaveStatus(401);
    expect(res.error?.code).toBe("unauthorized");
  });

  it("a public key comes with a site secret and is limited to origins", async () => {
    const res = await send(
      api.v1.keys.$post({
        json: { name: "shop", kind: "public", origins: ["https://shop.example"] },
      }),
    );
    expect(res).toHaveStatus(201);
    expect(res.json.key).toMatch(/^pk_/);
    expect(res.json.siteSecret).toMatch(/^ss_/);
    expect(res.json.origins).toEqual(["https://shop.example"]);
    const rows = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(res.json.id)
      .all();
    expect(JSON.stringify(rows.results)).not.toContain(res.json.siteSecret);
  });
});

/**
 * Where the graph's truth is. A deployment whose D1 already holds a graph (written by a
 * version whose writer had no database of its own) keeps serving it from D1 while the
 * graph moves into the writer's SQLite (or keeps it in D1 with TESSERA_GRAPH_STORE=d1),
 * and everything it held stays readable and writable.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { graphWriter } from "../../worker/writer/client";
import { graphOf, id, iso, keysOf, lookup, postEvents } from "../helpers";
import { SHARDS } from "../shards";

// A graph in D1 is a deployment from before the writer had its own SQLite, so it has one
// writer; a deployment with several shards starts with them and never reads a graph from D1
// (state.ts chooses "local" for it), so there is nothing to move there.
describe.skipIf(SHARDS > 1)("the writer's store", () => {
  it("starts from a graph D1 already holds, and the stored profiles keep working", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO profiles (id, primary_namespace, primary_value, identity_count, created_at, updated_at, namespaces) VALUES ('legacyProf01', 'crm', 'OLD-1', 1, ?1, ?1, 'crm')",
      ).bind(now),
      env.DB.prepare(
        "INSERT INTO identities (id, namespace, value, profile_id, first_seen, last_seen) VALUES (1, 'crm', 'OLD-1', 'legacyProf01', ?1, ?1)",
      ).bind(now),
    ]);
    const out = await postEvents([
      {
        type: "page.view",
        timestamp: iso(now),
        identities: [id("crm", "OLD-1"), id("email", "old-1@example.com")],
      },
    ]);
    expect(out.profiles).toEqual(["legacyProf01"]);
    const store = (await graphWriter(env).laneStats()).store;
    if ((env as { TESSERA_GRAPH_STORE?: string }).TESSERA_GRAPH_STORE === "d1")
      expect(store).toBe("d1");
    else expect(store).toMatch(/^(moving|local)$/);
    expect(keysOf(await graphOf("email", "old-1@example.com"))).toEqual([
      "crm:OLD-1",
      "email:old-1@example.com",
    ]);
    expect(await lookup("crm", "OLD-1")).toHaveStatus(200);
  });
});

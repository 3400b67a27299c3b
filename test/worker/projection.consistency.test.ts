/**
 * The graph's truth is the GraphWriter's own SQLite; D1's graph tables are a projection of
 * its commit log. After a mixed history (merges, a split, a delete, an erase with its
 * suppression, a lifted suppression, segment work) every graph table in D1 equals the
 * writer's, and a projection batch whose answer is lost is not applied twice.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { GraphWriter } from "../../worker/writer/client";
import {
  api,
  id,
  iso,
  type JsonBody,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  putDestination,
  putSegment,
  send,
} from "../helpers";
import { everyWriter, SHARDS, writerRows } from "../shards";

const GRAPH_TABLES: Record<string, string> = {
  identities: "id",
  links: "a_id, b_id",
  profiles: "id",
  fragments: "dataset, identity_id",
  events: "id",
  attribute_index: "path, value, identity_id, dataset",
  profile_terms: "term, profile_id",
  memberships: "segment_id, profile_id",
  graph_history: "id",
  graph_history_profiles: "history_id, profile_id",
  suppressions: "hash",
};

const T0 = Date.now() - 5 * 86_400_000;

async function d1Rows(table: string, order: string) {
  return (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()).results;
}

/** D1 holds every shard's rows; each writer holds its own (with several shards, the union is the truth). */
async function expectProjectionEqualsTruth() {
  for (const writer of everyWriter()) {
    const stats = await writer.laneStats();
    expect(stats.store).toBe("local");
    expect(stats.projection!.appliedSeq).toBe(stats.projection!.committedSeq);
  }
  for (const [table, order] of Object.entries(GRAPH_TABLES)) {
    const [truth, projected] = await Promise.all([writerRows(table, order), d1Rows(table, order)]);
    expect({ table, rows: projected }).toEqual({ table, rows: truth });
  }
  // The report tables live in D1 only; its triggers keep them equal to its events.
  const recount = await env.DB.prepare(
    `SELECT r.hour, r.dataset, r.type, r.events, count(e.id) AS counted FROM event_rollups r
     LEFT JOIN events e ON e.at / 3600000 = r.hour AND e.dataset = r.dataset AND e.type = r.type
     GROUP BY r.hour, r.dataset, r.type HAVING r.events != counted`,
  ).all();
  expect(recount.results).toEqual([]);
  const local = await writerRows("event_rollups", "hour");
  expect(local).toEqual([]);
}

describe("the D1 projection of the writer's graph", () => {
  it("equals the writer's own tables after a mixed history", async () => {
    await putDataset("proj-crm", { kind: "records" });
    await putSegment("proj-vip", { name: "VIP", rule: { attr: "vip", op: "eq", value: true } });
    await postRecords([
      {
        dataset: "proj-crm",
        identities: [id("crm", "P-1"), id("email", "p1@example.com")],
        attributes: { firstName: "Ada", vip: true },
      },
      { dataset: "proj-crm", identities: [id("crm", "P-2")], attributes: { firstName: "Bo" } },
    ]);
    await postEvents([
      {
        type: "page.view",
        timestamp: iso(T0),
        identities: [id("email", "p1@example.com"), id("device", "proj-device-0000001")],
      },
      {
        type: "order.completed",
        timestamp: iso(T0 + 60_000),
        identities: [id("crm", "P-2"), id("device", "proj-device-0000002")],
        data: { total: 12.5 },
      },
      {
        type: "message.delivered",
        timestamp: iso(T0 + 120_000),
        identities: [id("email", "p1@example.com")],
        data: { messageId: "proj-m1", journey: "welcome" },
      },
      {
        type: "message.delivered",
        timestamp: iso(T0 + 90_000),
        identities: [id("crm", "P-2")],
        data: { messageId: "proj-m2", journey: "welcome" },
      },
    ]);
    expect(
      await send(
        api.v1.links.$delete({
          query: { from: "email:p1@example.com", to: "device:proj-device-0000001" },
        }),
      ),
    ).toHaveStatus(200);
    expect(
      await send(
        api.v1.identities[":namespace"][":id"].$delete({
          param: { namespace: "device", id: "proj-device-0000002" },
        }),
      ),
    ).toHaveStatus(200);
    expect(
      await send(
        api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
          param: { namespace: "crm", id: "P-2" },
          query: {},
        }),
      ),
    ).toHaveStatus(200);
    await postRecords([
      { dataset: "proj-crm", identities: [id("crm", "P-3")], attributes: { firstName: "Cy" } },
    ]);
    expect(
      await send(
        api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
          param: { namespace: "crm", id: "P-3" },
          query: {},
        }),
      ),
    ).toHaveStatus(200);
    expect(
      await send(api.v1.suppressions.$delete({ query: { identity: "crm:P-3" } })),
    ).toHaveStatus(204);
    await expectProjectionEqualsTruth();
    // What was written is readable through D1 at once (the answer waited for the projection).
    const ada = await lookup("crm", "P-1", { include: "segments" });
    expect(ada.json.attributes.firstName).toBe("Ada");
    expect(ada.json.segments).toContainEqual(
      expect.objectContaining({ id: "proj-vip", status: "realized" }),
    );
  });

  it("skips a batch D1 committed but whose answer was lost, instead of applying it twice", async () => {
    // The next projection batch commits in D1, then its caller sees an error (a lost answer).
    // Every shard's projection gets the fault; the call below names only crm:P-1, so P-1's
    // shard applies it.
    let injected = false;
    for (const writer of everyWriter())
      await runInDurableObject(writer, (instance: GraphWriter) => {
        const projection = (instance as unknown as { opened: { projection: { d1: D1Database } } })
          .opened.projection;
        const real = projection.d1;
        let failed = false;
        // The projection writes through a D1 session: its next batch commits, then "fails".
        const failOnce = (session: D1DatabaseSession) =>
          new Proxy(session, {
            get(target, prop) {
              if (prop === "batch")
                return async (statements: D1PreparedStatement[]) => {
                  const result = await target.batch(statements);
                  if (!failed) {
                    failed = true;
                    injected = true;
                    throw new Error("network: the answer was lost");
                  }
                  return result;
                };
              const value = Reflect.get(target, prop, target);
              return typeof value === "function" ? value.bind(target) : value;
            },
          });
        projection.d1 = new Proxy(real, {
          get(target, prop) {
            if (prop === "withSession")
              return (constraint?: string) => failOnce(target.withSession(constraint));
            const value = Reflect.get(target, prop, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      });
    const out = await postEvents([
      {
        type: "page.view",
        timestamp: iso(T0 + 120_000),
        identities: [id("crm", "P-1")],
      },
    ]);
    expect(out.accepted).toBe(1);
    expect(injected).toBe(true);
    await expectProjectionEqualsTruth();
    const history = await env.DB.prepare("SELECT count(*) AS n FROM graph_history").first<number>(
      "n",
    );
    expect(history).toBe((await writerRows("graph_history", "id")).length);
  });

  it("keeps webhook deliveries in D1 and only the newest one in the writer's SQLite", async () => {
    const hook: JsonBody<(typeof api.v1.destinations)[":name"]["$put"]> = {
      type: "webhook",
      url: "https://hooks.example.com/projection",
      events: ["segment.entered", "segment.exited"],
    };
    expect(await putDestination("proj-hooks", hook)).toHaveStatus(200);
    for (let i = 0; i < 3; i++)
      await postRecords([
        { dataset: "proj-crm", identities: [id("crm", `P-VIP-${i}`)], attributes: { vip: true } },
      ]);
    const inD1 = await env.DB.prepare(
      "SELECT count(*) AS n, max(sequence) AS hi FROM webhook_deliveries",
    ).first<{ n: number; hi: number }>();
    // Each writer keeps only its newest delivery, as its sequence's high-water mark.
    const newest = await Promise.all(
      everyWriter().map((writer) =>
        runInDurableObject(writer, (_: GraphWriter, state) =>
          state.storage.sql
            .exec<{ sequence: number }>("SELECT sequence FROM webhook_deliveries")
            .toArray(),
        ),
      ),
    );
    expect(inD1!.n).toBeGreaterThanOrEqual(3);
    for (const rows of newest) expect(rows.length).toBeLessThanOrEqual(1);
    expect(Math.max(...newest.flat().map((r) => r.sequence))).toBe(inD1!.hi);
  });

  it("GET /v1/admin/shards shows every shard, its last commit and the projection's lag", async () => {
    await postEvents([{ type: "page.view", timestamp: iso(T0), identities: [id("crm", "P-4")] }]);
    const res = await send(api.v1.admin.shards.$get());
    expect(res).toHaveStatus(200);
    const expected = await Promise.all(
      everyWriter().map(async (writer, shard) => {
        const count = (table: string) =>
          runInDurableObject(
            writer,
            (_: GraphWriter, state) =>
              state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n,
          );
        return {
          id: shard,
          buckets: 16384 / SHARDS,
          profiles: await count("profiles"),
          identities: await count("identities"),
          bytes: expect.any(Number),
          seq: (await writer.laneStats()).projection!.committedSeq,
          projectionLag: 0,
          store: "local",
          rowsWritten: { shard: expect.any(Number), projection: expect.any(Number) },
        };
      }),
    );
    expect(res.json).toEqual({
      shards: expected,
      coordinator: { inFlight: 0, committed: expect.any(Number), busyMs: expect.any(Number) },
    });
    expect(res.json.shards.reduce((n, s) => n + s.profiles, 0)).toBe(
      (await writerRows("profiles", "id")).length,
    );
    // With one shard, nothing spans shards: the coordinator has had nothing to do.
    if (SHARDS === 1) expect(res.json.coordinator.committed).toBe(0);
    expect(res.json.shards[0]?.bytes).toBeGreaterThan(0);
    const written = res.json.shards.map((s) => s.rowsWritten);
    expect(written.reduce((n, w) => n + w.shard, 0)).toBeGreaterThan(0);
    expect(written.reduce((n, w) => n + w.projection, 0)).toBeGreaterThan(0);
  });
});

/**
 * `Tessera-Consistency` (SPEC §6): every write answer carries a token; a read that presents
 * it sees at least that state — also when D1's projection is behind the writer, which the
 * test makes happen by holding the projection's D1 batches (a fault-injecting wrapper).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deploymentOf, type GraphWriter, shardWriter } from "../../worker/writer/client";
import {
  api,
  call,
  expectErrorShape,
  id,
  type JsonBody,
  lookup,
  postEvents,
  send,
} from "../helpers";

/** A shard's position (shard 0 when there is one), or the coordinator's: `t1.<writer>.<seq>[.<bookmark>]`. */
const TOKEN = /^t1\.\d+\.\d+(\.[A-Za-z0-9-]+)?$/;

const post = (body: JsonBody<typeof api.v1.events.$post>) =>
  send(api.v1.events.$post({ query: {}, json: body }));

describe("consistency tokens", () => {
  it("every write answer carries one, and a read that presents it sees the write", async () => {
    const res = await post({
      events: [{ type: "page.view", identities: [id("crm", "TOK-1")] }],
    });
    expect(res).toHaveStatus(200);
    const token = res.headers.get("tessera-consistency")!;
    expect(token).toMatch(TOKEN);
    expect(token.split(".")).toHaveLength(4); // the D1 bookmark of the batch that applied it
    const read = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$get(
        { param: { namespace: "crm", id: "TOK-1" }, query: {} },
        { headers: { "tessera-consistency": token } },
      ),
    );
    expect(read).toHaveStatus(200);
    const unlink = await send(
      api.v1.identities[":namespace"][":id"].$delete({ param: { namespace: "crm", id: "TOK-1" } }),
    );
    expect(unlink.headers.get("tessera-consistency")).toMatch(TOKEN);
  });

  it("a malformed token is an error; `?consistency=eventual` is the one other choice", async () => {
    await postEvents([{ type: "page.view", identities: [id("crm", "TOK-2")] }]);
    const bad = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$get(
        { param: { namespace: "crm", id: "TOK-2" }, query: {} },
        { headers: { "tessera-consistency": "yesterday" } },
      ),
    );
    expect(bad).toHaveStatus(400);
    expectErrorShape(bad.json, "invalid_request");
    expect(bad.error?.details?.[0]?.path).toBe("header.Tessera-Consistency");
    expect(await lookup("crm", "TOK-2", { consistency: "eventual" })).toHaveStatus(200);
    // Not a value it takes: raw, as the typed client refuses it.
    expect(await call("GET", "/v1/profiles/by-identity/crm/TOK-2?consistency=strong")).toHaveStatus(
      400,
    );
  });

  it("a read whose token is ahead of D1's projection waits for it", async () => {
    // The write below creates crm:TOK-3: the shard hosting its index bucket applies it.
    const { placement } = await deploymentOf(env);
    const shard = placement.ownerOf(placement.indexBucket("crm:TOK-3"));
    const writer = shardWriter(env, shard) as unknown as DurableObjectStub<GraphWriter>;
    // Hold every projection batch until released.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    await runInDurableObject(writer, (instance: GraphWriter) => {
      const projection = (instance as unknown as { opened: { projection: { d1: D1Database } } })
        .opened.projection;
      const real = projection.d1;
      projection.d1 = new Proxy(real, {
        get(target, prop) {
          if (prop === "withSession")
            return (constraint?: string) => {
              const session = target.withSession(constraint);
              return new Proxy(session, {
                get(s, p) {
                  if (p === "batch")
                    return async (statements: D1PreparedStatement[]) => (
                      await released, s.batch(statements)
                    );
                  const value = Reflect.get(s, p, s);
                  return typeof value === "function" ? value.bind(s) : value;
                },
              });
            };
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    });
    const before = (await writer.laneStats()).projection!.committedSeq;
    const write = post({
      events: [{ type: "page.view", identities: [id("crm", "TOK-3")] }],
    });
    // The writer has committed it; D1 has not (the answer is still waiting too).
    for (let i = 0; i < 100 && (await writer.laneStats()).projection!.committedSeq === before; i++)
      await new Promise((r) => setTimeout(r, 10));
    const seq = (await writer.laneStats()).projection!.committedSeq;
    expect(seq).toBe(before + 1);
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM identities WHERE value = 'TOK-3'").first("n"),
    ).toBe(0);

    let answered = false;
    const read = send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$get(
        { param: { namespace: "crm", id: "TOK-3" }, query: {} },
        { headers: { "tessera-consistency": `t1.${shard}.${seq}` } },
      ),
    ).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(false);
    release();
    expect(await read).toHaveStatus(200);
    expect(await write).toHaveStatus(200);
  });
});

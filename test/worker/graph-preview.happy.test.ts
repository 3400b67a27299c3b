/**
 * Previews of an identity configuration change on existing graphs (SPEC §9): the splits
 * rule 3 gives under the proposed rules, segment changes they cause, and nothing changed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  call,
  graphOf,
  having,
  id,
  iso,
  keysOf,
  lookup,
  postEvents,
  putSegment,
  send,
  waitForSegment,
} from "../helpers";
import { poll } from "../poll";

const T0 = Date.now() - 10 * 3_600_000;

beforeAll(async () => {
  expect(
    await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "pcard" },
        query: {},
        json: { normalize: "trim", maxPerGraph: 5 },
      }),
    ),
  ).toHaveStatus(200);
  expect(
    await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "acct" },
        query: {},
        json: { normalize: "trim" },
      }),
    ),
  ).toHaveStatus(200);
  // One customer with five point cards, seen one after another (A oldest, E newest).
  await postEvents(
    ["A", "B", "C", "D", "E"].map((card, i) => ({
      type: "scan",
      timestamp: iso(T0 + i * 60_000),
      identities: [id("crm", "PV-1"), id("pcard", card)],
    })),
  );
  // A mega-graph built on one shared account value.
  await postEvents(
    ["m1", "m2", "m3"].map((m, i) => ({
      type: "login",
      timestamp: iso(T0 + i * 60_000),
      identities: [id("email", `${m}@preview.example`), id("acct", "shared")],
    })),
  );
  expect(
    await putSegment("preview-everyone", {
      name: "Everyone",
      rule: { attr: "x", op: "exists", value: false },
    }),
  ).toHaveStatus(200);
  await waitForSegment("preview-everyone");
});

describe("preview of a configuration change", () => {
  it("lowering maxPerGraph from 5 to 1: the four least recently seen cards leave; nothing changes", async () => {
    const res = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "pcard" },
        query: { preview: "true" },
        json: { normalize: "trim", maxPerGraph: 1 },
      }),
    );
    expect(res.status, res.text).toBe(200);
    const left = having(res.json, "splits")
      .splits.flatMap((s) => s.identities)
      .sort();
    expect(left).toEqual(["pcard:A", "pcard:B", "pcard:C", "pcard:D"]);
    expect(having(res.json, "truncated").truncated).toBe(false);
    // Each card that leaves is a new profile, and enters the segment everyone is in.
    const entered = having(res.json, "segmentChanges").segmentChanges.filter(
      (c) => c.segment === "preview-everyone",
    );
    expect(entered).toHaveLength(4);
    expect(entered.every((c) => c.from === "out" && c.to === "realized")).toBe(true);
    const sample = having(res.json, "sample").sample.find((s) =>
      s.before.identities.includes("crm:PV-1"),
    );
    expect(sample?.before.identities).toHaveLength(6);
    expect(sample?.after).toHaveLength(5);
    expect(sample?.after.find((a) => a.identities.includes("crm:PV-1"))?.identities).toEqual([
      "crm:PV-1",
      "pcard:E",
    ]);
    // Not saved: the namespace and the graph are as they were.
    expect(
      (await send(api.v1.namespaces.$get())).json.items.find((n) => n.code === "pcard")
        ?.maxPerGraph,
    ).toBe(5);
    expect(keysOf(await graphOf("crm", "PV-1"))).toHaveLength(6);
  });

  it("a blocked value that a mega-graph was built on: the graph falls apart around it", async () => {
    const res = await send(
      api.v1.identities.simulate.$post({
        json: {
          config: { namespaces: { acct: { blockedValues: ["shared"] } } },
          scope: { namespace: "acct" },
        },
      }),
    );
    expect(res.status, res.text).toBe(200);
    const sample = having(res.json, "sample").sample.find((s) =>
      s.before.identities.includes("acct:shared"),
    );
    expect(sample?.before.identities).toHaveLength(4);
    expect(sample?.after.map((a) => a.identities.length)).toEqual([1, 1, 1, 1]);
    expect(having(res.json, "splits").splits.length).toBe(3);
    expect(keysOf(await graphOf("acct", "shared"))).toHaveLength(4);
  });

  it("a plain PUT applies to new data only and answers how many existing graphs it would change", async () => {
    expect(
      await send(
        api.v1.namespaces[":code"].$put({
          param: { code: "ncard" },
          query: {},
          json: { normalize: "trim" },
        }),
      ),
    ).toHaveStatus(200);
    await postEvents(
      ["N1", "N2", "N3"].map((card, i) => ({
        type: "scan",
        timestamp: iso(T0 + i * 60_000),
        identities: [id("crm", "NC-1"), id("ncard", card)],
      })),
    );
    await postEvents([{ type: "scan", identities: [id("crm", "NC-2"), id("ncard", "N9")] }]);
    const saved = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "ncard" },
        query: {},
        json: { normalize: "trim", maxPerGraph: 1 },
      }),
    );
    expect(saved.status, saved.text).toBe(200);
    expect(saved.json).toMatchObject({
      code: "ncard",
      maxPerGraph: 1,
      existingGraphs: { wouldChange: 1, truncated: false },
    });
    // New data only: the existing graph keeps its three cards.
    expect(keysOf(await graphOf("crm", "NC-1"))).toEqual([
      "crm:NC-1",
      "ncard:N1",
      "ncard:N2",
      "ncard:N3",
    ]);
    // A change that leaves the rules as they are would change nothing.
    const described = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "ncard" },
        query: {},
        json: { normalize: "trim", maxPerGraph: 1, description: "Point cards" },
      }),
    );
    expect(having(described.json, "existingGraphs").existingGraphs).toEqual({
      wouldChange: 0,
      truncated: false,
    });

    const graph = await send(api.v1.settings.graph.$put({ query: {}, json: { maxIdentities: 3 } }));
    expect(graph.status, graph.text).toBe(200);
    expect(having(graph.json, "maxIdentities").maxIdentities).toBe(3);
    expect(having(graph.json, "existingGraphs").existingGraphs.wouldChange).toBeGreaterThanOrEqual(
      2,
    ); // PV-1's six identities, NC-1's four, the mega-graph's four
    expect(keysOf(await graphOf("crm", "PV-1"))).toHaveLength(6);
    // Back to 50: applied, rule 3 would run again over every graph under every rule in
    // force, so NC-1's graph, which holds three cards against the saved cap of one, is the one it changes.
    expect(
      having(
        (await send(api.v1.settings.graph.$put({ query: {}, json: { maxIdentities: 50 } }))).json,
        "existingGraphs",
      ).existingGraphs,
    ).toEqual({ wouldChange: 1, truncated: false });
    expect(
      having(
        (await send(api.v1.settings.graph.$put({ query: {}, json: { maxIdentities: 50 } }))).json,
        "existingGraphs",
      ).existingGraphs,
    ).toEqual({ wouldChange: 0, truncated: false });
  });

  it("graph settings preview; scope limits with truncated; bad input is a 400", async () => {
    const graph = await send(
      api.v1.settings.graph.$put({ query: { preview: "true" }, json: { maxIdentities: 3 } }),
    );
    expect(graph.status, graph.text).toBe(200);
    expect(having(graph.json, "splits").splits.length).toBeGreaterThanOrEqual(2);
    expect((await send(api.v1.settings.graph.$get())).json).toEqual({ maxIdentities: 50 });
    const limited = await send(
      api.v1.identities.simulate.$post({
        json: { config: { maxIdentities: 3 }, scope: { limit: 1 } },
      }),
    );
    expect(having(limited.json, "truncated").truncated).toBe(true);
    const scoped = await send(
      api.v1.identities.simulate.$post({
        json: {
          config: { namespaces: { pcard: { maxPerGraph: 1 } } },
          scope: { identities: [id("crm", "PV-1")] },
        },
      }),
    );
    expect(having(scoped.json, "splits").splits).toHaveLength(4);
    expect(
      await send(api.v1.identities.simulate.$post({ json: { config: { maxIdentities: 1 } } })),
    ).toHaveStatus(400);
    expect(
      await send(
        api.v1.identities.simulate.$post({
          json: { items: [{ type: "x", identities: [id("crm", "Z")] }], config: {} },
        }),
      ),
    ).toHaveStatus(400);
    expect(
      // Not a value the query takes: raw, as the typed client refuses it.
      await call("PUT", "/v1/namespaces/pcard?preview=yes", {
        body: { normalize: "trim", maxPerGraph: 1 },
      }),
    ).toHaveStatus(400);
  });
});

describe("applying a configuration change to existing graphs, and reverting it", () => {
  const waitRun = (runId: string) =>
    poll(
      async () => (await send(api.v1["graph-runs"][":id"].$get({ param: { id: runId } }))).json,
      (r) => r.status === "completed",
      `graph run ${runId}`,
      { tries: 200 },
    );

  it("maxPerGraph 5 → 1 applied: the splits the preview showed, history cause config, memberships; revert restores the graph", async () => {
    await postEvents(
      ["A", "B", "C", "D", "E"].map((card, i) => ({
        type: "scan",
        timestamp: iso(T0 + i * 60_000),
        identities: [id("crm", "PV-APPLY"), id("pcard", `X${card}`)],
      })),
    );
    const before = keysOf(await graphOf("crm", "PV-APPLY"));
    expect(before).toHaveLength(6);
    const preview = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "pcard" },
        query: { preview: "true" },
        json: { normalize: "trim", maxPerGraph: 1 },
      }),
    );
    const previewed = having(preview.json, "splits")
      .splits.filter((s) => s.identities.some((k: string) => k.startsWith("pcard:X")))
      .flatMap((s) => s.identities)
      .sort();

    const applied = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "pcard" },
        query: { apply: "retroactive" },
        json: { normalize: "trim", maxPerGraph: 1 },
      }),
    );
    expect(applied.status, applied.text).toBe(200);
    const run = await waitRun(having(applied.json, "runId").runId);
    expect(run).toMatchObject({ kind: "apply", status: "completed" });
    expect(run.splits).toBeGreaterThanOrEqual(4);
    expect(run.graphsChecked).toBeGreaterThanOrEqual(1);
    const after = await graphOf("crm", "PV-APPLY");
    expect(keysOf(after)).toEqual(["crm:PV-APPLY", "pcard:XE"]);
    expect(previewed).toEqual(["pcard:XA", "pcard:XB", "pcard:XC", "pcard:XD"]);
    expect(after.history.some((h) => h.cause === "config")).toBe(true);
    // Each card that left is a profile of its own, in the everyone segment.
    const left = await lookup("pcard", "XA", { include: "segments" });
    expect(left.json.segments).toContainEqual(
      expect.objectContaining({ id: "preview-everyone", status: "realized" }),
    );
    expect(
      (await send(api.v1.namespaces.$get())).json.items.find((n) => n.code === "pcard")
        ?.maxPerGraph,
    ).toBe(1);

    const reverted = await send(
      api.v1["graph-runs"][":id"].revert.$post({
        param: { id: having(applied.json, "runId").runId },
      }),
    );
    expect(reverted).toHaveStatus(202);
    const back = await waitRun(having(reverted.json, "runId").runId);
    expect(back).toMatchObject({
      kind: "revert",
      status: "completed",
      reverts: having(applied.json, "runId").runId,
    });
    expect(back.merges).toBeGreaterThanOrEqual(1);
    expect(keysOf(await graphOf("crm", "PV-APPLY"))).toEqual(before);
    // Memberships follow: the card's profile is the customer's again, in the segment once.
    const card = await lookup("pcard", "XA", { include: "segments" });
    expect(card.json.profileId).toBe((await lookup("crm", "PV-APPLY")).json.profileId);
    expect(card.json.segments?.filter((m) => m.id === "preview-everyone")).toEqual([
      expect.objectContaining({ status: "realized" }),
    ]);
    expect(
      (await send(api.v1.namespaces.$get())).json.items.find((n) => n.code === "pcard")
        ?.maxPerGraph,
    ).toBe(5);
    expect(
      await send(
        api.v1["graph-runs"][":id"].revert.$post({
          param: { id: having(reverted.json, "runId").runId },
        }),
      ),
    ).toHaveStatus(409);
    expect(
      await send(api.v1["graph-runs"][":id"].$get({ param: { id: "grun_nope" } })),
    ).toHaveStatus(404);
  });

  it("a blocked value applied: the mega-graph falls apart around it; revert joins it again", async () => {
    await postEvents(
      ["b1", "b2", "b3"].map((m, i) => ({
        type: "login",
        timestamp: iso(T0 + i * 60_000),
        identities: [id("email", `${m}@apply.example`), id("acct", "shared-apply")],
      })),
    );
    expect(keysOf(await graphOf("acct", "shared-apply"))).toHaveLength(4);
    const applied = await send(
      api.v1.namespaces[":code"].$put({
        param: { code: "acct" },
        query: { apply: "retroactive" },
        json: { normalize: "trim", blockedValues: ["shared-apply"] },
      }),
    );
    expect(applied.status, applied.text).toBe(200);
    expect((await waitRun(having(applied.json, "runId").runId)).splits).toBeGreaterThanOrEqual(3);
    // (A blocked value can no longer be named in a path either: the e-mail addresses show it.)
    expect(keysOf(await graphOf("email", "b1@apply.example"))).toEqual(["email:b1@apply.example"]);
    expect(keysOf(await graphOf("email", "b2@apply.example"))).toEqual(["email:b2@apply.example"]);
    // A blocked value is refused at ingest from now on.
    const refused = await send(
      api.v1.events.$post({
        query: {},
        json: { type: "login", identities: [id("acct", "shared-apply")] },
      }),
    );
    expect(refused.json).toMatchObject({
      accepted: 0,
      rejected: [{ index: 0, error: { code: "blocked_identity" } }],
    });
    const reverted = await send(
      api.v1["graph-runs"][":id"].revert.$post({
        param: { id: having(applied.json, "runId").runId },
      }),
    );
    await waitRun(having(reverted.json, "runId").runId);
    expect(keysOf(await graphOf("email", "b1@apply.example"))).toEqual([
      "acct:shared-apply",
      "email:b1@apply.example",
      "email:b2@apply.example",
      "email:b3@apply.example",
    ]);
  });
});

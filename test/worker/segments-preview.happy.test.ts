// A segment's size before it is saved: `PUT /v1/segments/:id?preview=true`.
import { describe, expect, it } from "vitest";
import { TesseraError } from "../../client/index.js";
import {
  api,
  apiClient,
  createKey,
  id,
  iso,
  postEvents,
  postRecords,
  unwrap,
  waitForSegment,
} from "../helpers";

const DAY = 86_400_000;
const GOLD = { attr: "loyalty.tier", op: "eq", value: "gold" };

const preview = (rule: unknown, client = api) =>
  unwrap(
    client.v1.segments[":id"].$put({
      param: { id: "draft" },
      query: { preview: "true" },
      json: { name: "Draft", rule: rule as never },
    }),
  );

/** The size preview's answer, narrowed from the route's union with a saved segment. */
async function previewSize(rule: unknown) {
  const answer = await preview(rule);
  if (!("preview" in answer)) throw new Error(`not a preview: ${JSON.stringify(answer)}`);
  return answer;
}

describe("segment size preview", () => {
  it("counts exactly what the saved segment then holds, and saves nothing", async () => {
    await unwrap(
      api.v1.datasets[":name"].$put({ param: { name: "loyalty" }, json: { kind: "records" } }),
    );
    await postRecords(
      Array.from({ length: 30 }, (_, i) => ({
        dataset: "loyalty",
        identities: [id("crm", `PV-${i}`)],
        attributes: { loyalty: { tier: i % 3 === 0 ? "gold" : "silver" } },
      })),
    );
    const now = Date.now();
    await postEvents([
      {
        id: "pv-b1",
        type: "purchase",
        timestamp: iso(now - 2 * DAY),
        identities: [id("crm", "PV-1")],
      },
      { id: "pv-b2", type: "purchase", timestamp: iso(now - DAY), identities: [id("crm", "PV-1")] },
      {
        id: "pv-b3",
        type: "purchase",
        timestamp: iso(now - 40 * DAY),
        identities: [id("crm", "PV-2")],
      },
      { id: "pv-b4", type: "purchase", timestamp: iso(now - DAY), identities: [id("crm", "PV-2")] },
    ]);

    const gold = await previewSize(GOLD);
    expect(gold).toEqual({
      preview: true,
      size: 10,
      exact: true,
      sampled: 30,
      matched: 10,
      totalProfiles: 30,
    });
    // Event windows count too: PV-2's first purchase is outside the 30 days.
    const buyers = await previewSize({ event: "purchase", within: "P30D", count: { gte: 2 } });
    expect([buyers.size, buyers.exact]).toEqual([1, true]);
    await expect(
      unwrap(api.v1.segments[":id"].$get({ param: { id: "draft" } })),
    ).rejects.toMatchObject({ status: 404 });

    await unwrap(
      api.v1.segments[":id"].$put({
        param: { id: "gold" },
        query: {},
        json: { name: "Gold", rule: GOLD as never },
      }),
    );
    expect((await waitForSegment("gold")).size).toBe(gold.size);
  });

  it("estimates from a sample of 1,000 when there are more profiles", async () => {
    for (let call = 0; call < 3; call++) {
      await postRecords(
        Array.from({ length: 400 }, (_, k) => {
          const i = call * 400 + k;
          return {
            dataset: "loyalty",
            identities: [id("crm", `PVB-${i}`)],
            attributes: { loyalty: { tier: i % 4 === 0 ? "gold" : "bronze" } },
          };
        }),
      );
    }
    const answer = await previewSize(GOLD);
    const truth = 10 + 300; // the first test's 10 and a quarter of these 1,200
    expect(answer).toMatchObject({ exact: false, sampled: 1000, totalProfiles: 1230 });
    expect(answer.size).toBe(Math.round((answer.matched / 1000) * 1230));
    // Sampling 1,000 of 1,230 without replacement: the standard error is about 7 profiles.
    expect(Math.abs(answer.size - truth)).toBeLessThan(60);
  });

  it("rejects a bad rule naming the field, and needs the segments scope", async () => {
    const bad = await preview({ attr: "loyalty.tier", op: "equals", value: "gold" }).catch(
      (err: unknown) => err,
    );
    expect(bad).toBeInstanceOf(TesseraError);
    expect(bad).toMatchObject({ status: 400, code: "invalid_request" });
    expect((bad as TesseraError).details?.map((d) => d.path)).toContain("rule.op");
    const reader = apiClient(await createKey(["profiles:read"]));
    await expect(preview(GOLD, reader)).rejects.toMatchObject({ status: 403 });
    const segmenter = apiClient(await createKey(["segments"]));
    expect(await preview(GOLD, segmenter)).toMatchObject({ preview: true });
  });
});

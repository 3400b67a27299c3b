/** Bad data view definitions and report requests get the one error shape, with details. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, createKey, expectErrorShape } from "../helpers";

const base = {
  name: "Bad",
  dimensions: [{ id: "day", field: "time.day" }],
  metrics: [
    { id: "delivered", aggregate: "count", filter: { type: ["email.delivered"] } },
    { id: "clicked", aggregate: "count", filter: { type: ["email.clicked"] } },
  ],
};

async function rejected(body: unknown) {
  const res = await call("PUT", "/v1/data-views/bad", { body });
  expect(res.status, res.text).toBe(400);
  expectErrorShape(res.json, "invalid_request");
  return res.json.error.details as { path: string; message: string }[];
}

beforeAll(async () => {
  const ok = await call("PUT", "/v1/data-views/by-tier", {
    body: {
      ...base,
      dimensions: [
        { id: "tier", field: "profile.loyalty.tier" },
        { id: "day", field: "time.day" },
      ],
    },
  });
  if (ok.status !== 200) throw new Error(ok.text);
});

describe("data view definitions", () => {
  it("an unknown field is named with its path", async () => {
    const details = await rejected({
      ...base,
      dimensions: [
        { id: "x", field: "colour" },
        { id: "y", field: "data." },
      ],
    });
    expect(details.map((d) => d.path)).toEqual(["dimensions[0].field", "dimensions[1].field"]);
    expect(details[0]!.message).toMatch(/unknown field "colour"/);
  });

  it("a formula with an unknown metric — division by a missing metric — is refused", async () => {
    const details = await rejected({
      ...base,
      calculated: [{ id: "ctr", formula: "clicked / opened" }],
    });
    expect(details).toEqual([
      { path: "calculated[0].formula", message: expect.stringMatching(/unknown metric "opened"/) },
    ]);
  });

  it("formula syntax errors say where", async () => {
    const details = await rejected({
      ...base,
      calculated: [
        { id: "a", formula: "clicked / (delivered" },
        { id: "b", formula: "clicked $ 2" },
        { id: "c", formula: "clicked delivered" },
      ],
    });
    expect(details.map((d) => d.path)).toEqual([
      "calculated[0].formula",
      "calculated[1].formula",
      "calculated[2].formula",
    ]);
    expect(details[0]!.message).toMatch(/expected "\)"/);
    expect(details[1]!.message).toMatch(/unexpected "\$" at character 9/);
  });

  it("sum and avg need a numeric data field; count takes none; conditions need fitting values", async () => {
    const details = await rejected({
      ...base,
      metrics: [
        { id: "revenue", aggregate: "sum" },
        { id: "avg", aggregate: "avg", field: "profile.age" },
        { id: "n", aggregate: "count", field: "data.amount" },
        {
          id: "m",
          aggregate: "count",
          filter: {
            where: [
              { field: "data.amount", op: "gt", value: { x: 1 } },
              { field: "time.day", op: "eq", value: 1 },
            ],
          },
        },
        { id: "n", aggregate: "count" },
      ],
    });
    expect(details.map((d) => d.path)).toEqual([
      "metrics[0].field",
      "metrics[1].field",
      "metrics[2].field",
      "metrics[3].filter.where[0].value",
      "metrics[3].filter.where[1].field",
      "metrics[4].id",
    ]);
  });

  it("an unknown time zone or dataset is refused; the built-in view cannot be replaced", async () => {
    const details = await rejected({ ...base, timezone: "Mars/Olympus", datasets: ["nope"] });
    expect(details.map((d) => d.path)).toEqual(["timezone", "datasets[0]"]);
    const builtIn = await call("PUT", "/v1/data-views/journeys", { body: base });
    expect(builtIn).toHaveStatus(409);
    expectErrorShape(builtIn.json, "conflict");
  });

  it("unknown keys in the body are refused (strict schema)", async () => {
    const res = await call("PUT", "/v1/data-views/bad", {
      body: { ...base, metrics: [{ id: "x", aggregate: "count", filtr: {} }] },
    });
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
  });
});

describe("report requests", () => {
  it("a profile.<path> dimension over a huge range is refused with details", async () => {
    const res = await call(
      "GET",
      "/v1/data-views/by-tier/report?from=2025-01-01&to=2025-12-31&dimension=tier",
    );
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0]).toMatchObject({
      path: "from",
      message: expect.stringMatching(/narrow it to 92/),
    });
    const short = await call(
      "GET",
      "/v1/data-views/by-tier/report?from=2025-01-01&to=2025-01-31&dimension=tier",
    );
    expect(short).toHaveStatus(200);
  });

  it("unknown dimensions, metrics, views, zones and formats are 400/404 with the error shape", async () => {
    const dim = await call("GET", "/v1/data-views/by-tier/report?dimension=colour");
    expect(dim).toHaveStatus(400);
    expect(dim.json.error.details[0]).toEqual({ path: "dimension", message: "one of tier, day" });
    const metric = await call("GET", "/v1/data-views/by-tier/report?metrics=delivered,opened");
    expect(metric).toHaveStatus(400);
    expect(metric.json.error.message).toMatch(/"opened"/);
    expect(await call("GET", "/v1/data-views/nope/report")).toHaveStatus(404);
    expect(await call("GET", "/v1/data-views/by-tier/report?tz=Mars/Olympus")).toHaveStatus(400);
    expect(await call("GET", "/v1/data-views/by-tier/report?format=xlsx")).toHaveStatus(400);
    expect(await call("GET", "/v1/data-views/by-tier/report?limit=0")).toHaveStatus(400);
    expect(
      await call("GET", "/v1/data-views/by-tier/report?from=2020-01-01&to=2025-01-01"),
    ).toHaveStatus(400);
  });

  it("attribution needs a conversion type, a known model and a window of at most 90 days", async () => {
    const missing = await call("GET", "/v1/reports/journeys");
    expect(missing).toHaveStatus(400);
    expectErrorShape(missing.json, "invalid_request");
    expect(
      await call("GET", "/v1/reports/journeys?conversion=purchase&model=u-shaped"),
    ).toHaveStatus(400);
    const window = await call("GET", "/v1/reports/journeys?conversion=purchase&window=P1Y");
    expect(window).toHaveStatus(400);
    expect(window.json.error.details[0].path).toBe("window");
    expect(await call("GET", "/v1/reports/journeys?conversion=purchase&value=amount")).toHaveStatus(
      400,
    );
  });
});

describe("the cardinality limit", () => {
  it("a dimension with more than 10,000 values in range is refused, not left to time out; a narrower range works", async () => {
    await call("PUT", "/v1/data-views/orders", {
      body: {
        name: "Orders",
        dimensions: [{ id: "order", field: "data.orderId" }],
        metrics: [{ id: "n", aggregate: "count", filter: { type: ["card.order"] } }],
      },
    });
    for (let call_ = 0; call_ < 11; call_++) {
      const events = Array.from({ length: 1000 }, (_, i) => {
        const n = call_ * 1000 + i;
        return {
          id: `card-${n}`,
          type: "card.order",
          timestamp: `2024-0${call_ < 10 ? 3 : 4}-01T10:00:00Z`,
          identities: [{ namespace: "crm", id: `CARD-${n % 50}` }],
          data: { orderId: `O-${n}` },
        };
      });
      const res = await call("POST", "/v1/events", { body: { events } });
      expect(res).toHaveStatus(200);
    }
    const wide = await call(
      "GET",
      "/v1/data-views/orders/report?from=2024-03-01&to=2024-04-30&tz=UTC",
    );
    expect(wide).toHaveStatus(400);
    expectErrorShape(wide.json, "invalid_request");
    expect(wide.json.error.message).toMatch(/more than 10000 values/);
    expect(wide.json.error.details[0].path).toBe("dimension");
    const march = await call(
      "GET",
      "/v1/data-views/orders/report?from=2024-03-01&to=2024-03-31&tz=UTC&limit=5",
    );
    expect(march).toHaveStatus(200);
    expect(march.json.totals.n).toBe(10_000);
    expect(march.json.items).toHaveLength(5);
    expect(march.json.truncated).toBe(true);
  });
});

describe("data view access", () => {
  it("profiles:read reads views and reports but cannot define them", async () => {
    const reader = await createKey(["profiles:read"]);
    expect(await call("GET", "/v1/data-views", { key: reader })).toHaveStatus(200);
    expect(
      await call("GET", "/v1/data-views/journeys/report?dimension=journey", { key: reader }),
    ).toHaveStatus(200);
    const put = await call("PUT", "/v1/data-views/mine", { key: reader, body: base });
    expect(put).toHaveStatus(403);
    expectErrorShape(put.json, "forbidden");
    const writer = await createKey(["profiles:write"]);
    expect(await call("GET", "/v1/data-views", { key: writer })).toHaveStatus(403);
    expect(await call("GET", "/v1/data-views", { key: null })).toHaveStatus(401);
  });
});

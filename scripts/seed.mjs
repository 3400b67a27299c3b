// Seeds the demo data set once, through the public API (the same path users take).
import { customers, eventsFor, messagesFor, recordsFor } from "./lib/demo-data.mjs";

const DEMO_PEOPLE = 300;

async function request(url, adminKey, method, pathname, body) {
  const response = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => undefined);
  return { status: response.status, json };
}

async function sendAll(url, adminKey, kind, items) {
  let accepted = 0;
  for (let i = 0; i < items.length; i += 1000) {
    const res = await request(url, adminKey, "POST", `/v1/${kind}`, {
      [kind]: items.slice(i, i + 1000),
    });
    if (res.status !== 200)
      throw new Error(`seed: POST /v1/${kind} → ${res.status} ${JSON.stringify(res.json)}`);
    if (res.json.rejected.length > 0)
      throw new Error(`seed: rejected ${JSON.stringify(res.json.rejected.slice(0, 3))}`);
    accepted += res.json.accepted + res.json.duplicates;
  }
  return accepted;
}

export async function seedDemoData({ url, adminKey, people = DEMO_PEOPLE, log = console.log }) {
  const marker = await request(url, adminKey, "GET", "/v1/identities/crm/CUST-10000/graph");
  if (marker.status === 200) {
    log("tessera: demo data already seeded");
    return false;
  }
  const started = Date.now();
  for (const [name, kind, description] of [
    ["crm", "records", "Customer master data from the CRM"],
    ["loyalty", "records", "Loyalty program membership"],
    ["orders", "events", "Web shop orders"],
    ["messages", "events", "E-mail and SMS delivery events"],
  ]) {
    const res = await request(url, adminKey, "PUT", `/v1/datasets/${name}`, { kind, description });
    if (res.status !== 200) throw new Error(`seed: PUT /v1/datasets/${name} → ${res.status}`);
  }
  // What the demo page personalizes on: public segments and the attribute allow-list.
  await request(url, adminKey, "PUT", "/v1/settings/personalization", {
    attributes: ["firstName", "loyalty.tier"],
  });
  for (const [id, name, rule] of [
    ["gold-members", "Gold members", { attr: "loyalty.tier", op: "eq", value: "gold" }],
    [
      "frequent-buyers",
      "Frequent buyers",
      { event: "purchase", within: "P30D", count: { gte: 2 } },
    ],
  ]) {
    const res = await request(url, adminKey, "PUT", `/v1/segments/${id}`, {
      name,
      public: true,
      rule,
    });
    if (res.status !== 200) throw new Error(`seed: PUT /v1/segments/${id} → ${res.status}`);
  }
  // A data view for the report builder, next to the built-in journeys view.
  const view = await request(url, adminKey, "PUT", "/v1/data-views/shop", {
    name: "Shop",
    datasets: ["orders", "web"],
    dimensions: [
      { id: "product", field: "data.product" },
      { id: "day", field: "time.day" },
      { id: "week", field: "time.week" },
      { id: "tier", field: "profile.loyalty.tier" },
      { id: "type", field: "type" },
    ],
    metrics: [
      { id: "orders", aggregate: "count", filter: { type: ["purchase"] } },
      { id: "revenue", aggregate: "sum", field: "data.amount", filter: { type: ["purchase"] } },
      { id: "buyers", aggregate: "profiles", filter: { type: ["purchase"] } },
      { id: "pageViews", aggregate: "count", filter: { type: ["page.view"] } },
    ],
    calculated: [{ id: "revenuePerBuyer", formula: "revenue / buyers" }],
  });
  if (view.status !== 200)
    throw new Error(`seed: PUT /v1/data-views/shop → ${view.status} ${JSON.stringify(view.json)}`);
  const list = customers(people);
  const records = await sendAll(url, adminKey, "records", recordsFor(list));
  const events =
    (await sendAll(url, adminKey, "events", eventsFor(list))) +
    (await sendAll(url, adminKey, "events", messagesFor(list)));
  log(
    `tessera: seeded ${people} demo customers (${records} records, ${events} events) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return true;
}

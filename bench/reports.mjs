// Journey analytics at scale: `npm run bench -- --only reports [--report-events 1000000]`.
// Its own Worker on a fresh local D1: ingests N events spread over the 90 days ending
// yesterday (page views, journey messages, purchases of 50,000 customers) through
// /v1/events, then times 90-day reports — data views by day and by a data path, the
// built-in journeys view, journey attribution — next to the same aggregation in raw
// SQLite (node:sqlite) over the same rows, so the ratio survives a noisy machine.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { applyMigrations, startWorker } from "../scripts/lib/local-worker.mjs";
import { rng } from "../scripts/lib/demo-data.mjs";
import { concurrently } from "./load.mjs";

const ADMIN = "sk_bench_reports_admin_key_local_only";
const DAY = 86_400_000;
const JOURNEYS = ["welcome", "winback", "cart-reminder", "birthday", "re-engage"];

/** `count` events over [start, end): 60 % page views, journeys' messages, purchases. */
function* reportEvents(count, start, end, customers = 50_000) {
  const r = rng(42);
  let n = 0;
  while (n < count) {
    const who = `R-${Math.floor(r() * customers)}`;
    const at = start + Math.floor(r() * (end - start));
    const roll = r();
    const base = { identities: [{ namespace: "crm", id: who }], timestamp: new Date(at).toISOString() };
    if (roll < 0.6) {
      yield { ...base, id: `rv-${n}`, type: "page.view", dataset: "web", data: { url: ["/", "/shoes", "/sale", "/tents"][Math.floor(r() * 4)] } };
      n++;
    } else if (roll < 0.9) {
      const journey = JOURNEYS[Math.floor(r() * JOURNEYS.length)];
      const messageId = `m-${n}`;
      const data = { messageId, journey, channel: r() < 0.8 ? "email" : "sms" };
      for (const [type, p, later] of [["message.sent", 1, 0], ["message.delivered", 0.95, 60_000], ["message.opened", 0.4, 3_600_000], ["message.clicked", 0.12, 3_700_000]]) {
        if (n >= count || r() >= p || at + later >= end) break;
        yield { ...base, timestamp: new Date(at + later).toISOString(), id: `rm-${n}`, type, dataset: "messages", data };
        n++;
      }
    } else {
      yield { ...base, id: `rp-${n}`, type: "purchase", dataset: "orders", data: { amount: 10 + Math.floor(r() * 200), sku: `SKU-${Math.floor(r() * 50)}` } };
      n++;
    }
  }
}

async function api(url, method, pathname, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${pathname}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

const VIEW = {
  name: "Bench",
  dimensions: [
    { id: "day", field: "time.day" },
    { id: "week", field: "time.week" },
    { id: "journey", field: "data.journey" },
    { id: "type", field: "type" },
  ],
  metrics: [
    { id: "events", aggregate: "count" },
    { id: "purchases", aggregate: "count", filter: { type: ["purchase"] } },
    { id: "revenue", aggregate: "sum", field: "data.amount", filter: { type: ["purchase"] } },
    { id: "buyers", aggregate: "profiles", filter: { type: ["purchase"] } },
    { id: "clicks", aggregate: "count", filter: { type: ["message.clicked"] } },
    { id: "delivered", aggregate: "count", filter: { type: ["message.delivered"] } },
  ],
  calculated: [{ id: "ctr", formula: "clicks / delivered" }],
};

/** Median ms of `runs` calls (after one warm-up). */
async function timed(runs, call) {
  await call();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(ms.length / 2)]);
}

/** The same rows in plain SQLite, and the same aggregations as SQL, for the floor. */
function baseline(events) {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-reports-baseline-"));
  const db = new DatabaseSync(path.join(dir, "events.sqlite"));
  db.exec(`CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, dataset TEXT NOT NULL, identity_id INTEGER NOT NULL, data TEXT);
           CREATE INDEX events_type_at ON events (type, at); CREATE INDEX events_at ON events (at);`);
  const ids = new Map();
  const insert = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)");
  db.exec("BEGIN");
  for (const e of events) {
    const who = e.identities[0].id;
    if (!ids.has(who)) ids.set(who, ids.size + 1);
    insert.run(e.id, e.type, Date.parse(e.timestamp), e.dataset, ids.get(who), JSON.stringify(e.data));
  }
  db.exec("COMMIT");
  return {
    byDay: (start, end) =>
      db.prepare(`SELECT date(at / 1000, 'unixepoch') AS k, count(*), count(*) FILTER (WHERE type = 'purchase'), total(json_extract(data, '$.amount')) FILTER (WHERE type = 'purchase'),
                         count(DISTINCT identity_id) FILTER (WHERE type = 'purchase') FROM events WHERE at >= ? AND at < ? GROUP BY k`).all(start, end),
    byJourney: (start, end) =>
      db.prepare(`SELECT json_extract(data, '$.journey') AS k, count(*) FILTER (WHERE type = 'message.clicked'), count(*) FILTER (WHERE type = 'message.delivered')
                  FROM events WHERE at >= ? AND at < ? AND type IN ('message.clicked', 'message.delivered') GROUP BY k`).all(start, end),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function reports({ events: total = 1_000_000, clients = 2 } = {}) {
  const today = new Date(new Date().toISOString().slice(0, 10)).getTime();
  const start = today - 90 * DAY;
  const events = [...reportEvents(total, start, today)];
  const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-reports-"));
  let worker;
  const floor = baseline(events);
  try {
    await applyMigrations({ persistTo });
    worker = await startWorker({ persistTo, vars: { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "bench-secret" } });
    const url = worker.url;
    for (const name of ["orders", "messages"]) await api(url, "PUT", `/v1/datasets/${name}`, { kind: "events" });
    const calls = Math.ceil(events.length / 1000);
    const ingest = await concurrently(calls, clients, (i) => api(url, "POST", "/v1/events", { events: events.slice(i * 1000, (i + 1) * 1000) }));
    console.log(`reports: ingested ${events.length} events in ${ingest.seconds.toFixed(0)} s`);
    await api(url, "PUT", "/v1/data-views/bench", VIEW);

    const from = new Date(start).toISOString().slice(0, 10);
    const to = new Date(today - DAY).toISOString().slice(0, 10);
    const q = (params) => `from=${from}&to=${to}&tz=UTC&${params}`;
    const out = { events: events.length, ingestEventsPerSecond: Math.round(events.length / ingest.seconds), days: 90 };
    let check;
    out.byDayMs = await timed(5, async () => (check = await api(url, "GET", `/v1/data-views/bench/report?${q("dimension=day&metrics=events,purchases,revenue,buyers")}`)));
    out.byDayTotals = check.totals;
    out.byJourneyMs = await timed(5, () => api(url, "GET", `/v1/data-views/bench/report?${q("dimension=journey&metrics=clicks,delivered,ctr")}`));
    out.byWeekAllMetricsMs = await timed(5, () => api(url, "GET", `/v1/data-views/bench/report?${q("dimension=week")}`));
    out.journeysViewMs = await timed(3, () => api(url, "GET", `/v1/data-views/journeys/report?${q("dimension=journey")}`));
    out.attributionMs = await timed(3, () => api(url, "GET", `/v1/reports/journeys?${q("conversion=purchase&value=data.amount&model=linear&window=P7D")}`));
    out.sqliteByDayMs = await timed(5, () => floor.byDay(start, today - 0));
    out.sqliteByJourneyMs = await timed(5, () => floor.byJourney(start, today));
    return out;
  } finally {
    floor.close();
    await worker?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

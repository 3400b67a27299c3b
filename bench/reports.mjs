// Journey analytics at scale: `npm run bench -- --only reports [--report-events 1000000]`.
// Its own Worker on a fresh local D1: ingests N events spread over the 90 days ending
// yesterday (page views, journey messages, purchases of 50,000 customers) through
// /v1/events, then times 90-day reports — data views by day and by a data path, the
// built-in journeys view, journey attribution — next to the same aggregation in raw
// SQLite (node:sqlite) over the same rows, so the ratio survives a noisy machine. Then the
// isolation figure: single-event ingest p99 idle, and while four worst-case reports
// (journey attribution, linear, P30D window, 90 days) run at once with a read-only key.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { rng } from "../scripts/lib/demo-data.mjs";
import { applyMigrations, startWorker } from "../scripts/lib/local-worker.mjs";
import { concurrently, percentile } from "./load.mjs";

const ADMIN = "sk_bench_reports_admin_key_local_only";
const DAY = 86_400_000;
const JOURNEYS = ["welcome", "winback", "cart-reminder", "birthday", "re-engage"];

/** `count` events over [start, end): 60 % page views, journeys' messages, purchases. */
export function* reportEvents(count, start, end, customers = 50_000) {
  const r = rng(42);
  let n = 0;
  while (n < count) {
    const who = `R-${Math.floor(r() * customers)}`;
    const at = start + Math.floor(r() * (end - start));
    const roll = r();
    const base = {
      identities: [{ namespace: "crm", id: who }],
      timestamp: new Date(at).toISOString(),
    };
    if (roll < 0.6) {
      yield {
        ...base,
        id: `rv-${n}`,
        type: "page.view",
        dataset: "web",
        data: { url: ["/", "/shoes", "/sale", "/tents"][Math.floor(r() * 4)] },
      };
      n++;
    } else if (roll < 0.9) {
      const journey = JOURNEYS[Math.floor(r() * JOURNEYS.length)];
      const messageId = `m-${n}`;
      const data = { messageId, journey, channel: r() < 0.8 ? "email" : "sms" };
      for (const [type, p, later] of [
        ["message.sent", 1, 0],
        ["message.delivered", 0.95, 60_000],
        ["message.opened", 0.4, 3_600_000],
        ["message.clicked", 0.12, 3_700_000],
      ]) {
        if (n >= count || r() >= p || at + later >= end) break;
        yield {
          ...base,
          timestamp: new Date(at + later).toISOString(),
          id: `rm-${n}`,
          type,
          dataset: "messages",
          data,
        };
        n++;
      }
    } else {
      yield {
        ...base,
        id: `rp-${n}`,
        type: "purchase",
        dataset: "orders",
        data: { amount: 10 + Math.floor(r() * 200), sku: `SKU-${Math.floor(r() * 50)}` },
      };
      n++;
    }
  }
}

async function api(url, method, pathname, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`${method} ${pathname}: ${res.status} ${text.slice(0, 300)}`);
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
           CREATE INDEX events_type_at ON events (type, at, identity_id); CREATE INDEX events_at ON events (at); CREATE INDEX events_identity_at ON events (identity_id, at);`);
  const ids = new Map();
  const insert = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)");
  db.exec("BEGIN");
  for (const e of events) {
    const who = e.identities[0].id;
    if (!ids.has(who)) ids.set(who, ids.size + 1);
    insert.run(
      e.id,
      e.type,
      Date.parse(e.timestamp),
      e.dataset,
      ids.get(who),
      JSON.stringify(e.data),
    );
  }
  db.exec("COMMIT");
  return {
    byDay: (start, end) =>
      db
        .prepare(`SELECT date(at / 1000, 'unixepoch') AS k, count(*), count(*) FILTER (WHERE type = 'purchase'), total(json_extract(data, '$.amount')) FILTER (WHERE type = 'purchase'),
                         count(DISTINCT identity_id) FILTER (WHERE type = 'purchase') FROM events WHERE at >= ? AND at < ? GROUP BY k`)
        .all(start, end),
    byJourney: (start, end) =>
      db
        .prepare(`SELECT json_extract(data, '$.journey') AS k, count(*) FILTER (WHERE type = 'message.clicked'), count(*) FILTER (WHERE type = 'message.delivered')
                  FROM events WHERE at >= ? AND at < ? AND type IN ('message.clicked', 'message.delivered') GROUP BY k`)
        .all(start, end),
    // Messages per journey and type, each counted once (its first event), straight from the events.
    journeys: (start, end) =>
      db
        .prepare(`SELECT json_extract(data, '$.journey') AS k, type, count(DISTINCT json_extract(data, '$.messageId'))
                  FROM events WHERE at >= ? AND at < ? AND type IN ('message.sent', 'message.delivered', 'message.bounced', 'message.opened', 'message.clicked') GROUP BY k, type`)
        .all(start, end),
    // Attribution's reads: the conversions' count and value, and each conversion's delivered or
    // clicked journey messages in the window before it (here one customer is one identity).
    attribution: (start, end, windowMs) => [
      db
        .prepare(
          `SELECT count(*), total(json_extract(data, '$.amount')) FROM events WHERE type = 'purchase' AND at >= ? AND at < ?`,
        )
        .get(start, end),
      db
        .prepare(`SELECT c.id, c.at, json_extract(c.data, '$.amount'), m.at, json_extract(m.data, '$.messageId'), json_extract(m.data, '$.journey'), m.type
                  FROM events c JOIN events m ON m.identity_id = c.identity_id AND m.at >= c.at - ? AND m.at <= c.at AND m.type IN ('message.delivered', 'message.clicked')
                  WHERE c.type = 'purchase' AND c.at >= ? AND c.at < ?`)
        .all(windowMs, start, end),
    ],
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Single-event ingest latency (4 clients, 200 calls) idle, then while four attribution
 * reports run side by side in a loop; p99 of each and how the reports fared.
 */
async function isolation(url, attributionQuery) {
  const reader = (
    await api2(url, "POST", "/v1/keys", {
      name: "bench reader",
      kind: "secret",
      scopes: ["profiles:read"],
    })
  ).key;
  const single = (tag) => (i) =>
    api(url, "POST", "/v1/events", {
      id: `iso-${tag}-${i}`,
      type: "page.view",
      identities: [{ namespace: "crm", id: `ISO-${i % 500}` }],
    });
  const idle = await concurrently(200, 4, single("idle"));
  let stop = false;
  const outcomes = { ok: 0, limited: 0, other: 0, ms: [] };
  const reportLoop = async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/v1/reports/journeys?${attributionQuery}`, {
          headers: { authorization: `Bearer ${reader}` },
        });
        const body = await res.text();
        if (res.status === 200) outcomes.ok++, outcomes.ms.push(performance.now() - t0);
        else if (res.status === 429)
          outcomes.limited++, await new Promise((r) => setTimeout(r, 200));
        else outcomes.other++, (outcomes.lastError = `${res.status} ${body.slice(0, 200)}`);
      } catch (err) {
        outcomes.other++;
        outcomes.lastError = String(err?.cause ?? err);
      }
    }
  };
  const loops = Array.from({ length: 4 }, reportLoop);
  await new Promise((r) => setTimeout(r, 500)); // the reports are under way
  // 200 calls, or as many as three minutes allow (a held database can make each take seconds).
  const until = Date.now() + 180_000;
  const busy = await concurrently(200, 4, (i) =>
    Date.now() < until ? single("busy")(i) : undefined,
  );
  busy.latencies.splice(0, busy.latencies.length, ...busy.latencies.filter((ms) => ms > 0.5));
  stop = true;
  await Promise.all(loops);
  outcomes.ms.sort((a, b) => a - b);
  return {
    ingestIdleP99Ms: Number(percentile(idle.latencies, 99).toFixed(1)),
    ingestBesideReportsP99Ms: Number(percentile(busy.latencies, 99).toFixed(1)),
    ingestBesideReportsCalls: busy.latencies.length,
    besideReports: {
      completed: outcomes.ok,
      limited: outcomes.limited,
      failed: outcomes.other,
      p50Ms: Math.round(percentile(outcomes.ms, 50) ?? 0),
      ...(outcomes.lastError ? { lastError: outcomes.lastError } : {}),
    },
  };
}

async function api2(url, method, pathname, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status >= 300)
    throw new Error(`${method} ${pathname}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function reports({
  events: total = 1_000_000,
  clients = 2,
  isolationOnly = false,
} = {}) {
  const today = new Date(new Date().toISOString().slice(0, 10)).getTime();
  const start = today - 90 * DAY;
  const events = [...reportEvents(total, start, today)];
  const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-reports-"));
  let worker;
  const floor = baseline(events);
  try {
    await applyMigrations({ persistTo });
    worker = await startWorker({
      persistTo,
      vars: { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "bench-secret" },
    });
    const url = worker.url;
    for (const name of ["orders", "messages"])
      await api(url, "PUT", `/v1/datasets/${name}`, { kind: "events" });
    const calls = Math.ceil(events.length / 1000);
    const ingest = await concurrently(calls, clients, (i) =>
      api(url, "POST", "/v1/events", { events: events.slice(i * 1000, (i + 1) * 1000) }),
    );
    console.log(`reports: ingested ${events.length} events in ${ingest.seconds.toFixed(0)} s`);
    await api(url, "PUT", "/v1/data-views/bench", VIEW);

    const from = new Date(start).toISOString().slice(0, 10);
    const to = new Date(today - DAY).toISOString().slice(0, 10);
    const q = (params) => `from=${from}&to=${to}&tz=UTC&${params}`;
    const out = {
      events: events.length,
      ingestEventsPerSecond: Math.round(events.length / ingest.seconds),
      days: 90,
    };
    if (isolationOnly)
      return Object.assign(
        out,
        await isolation(url, q("conversion=purchase&value=data.amount&model=linear&window=P30D")),
      );
    let check;
    out.byDayMs = await timed(
      5,
      async () =>
        (check = await api(
          url,
          "GET",
          `/v1/data-views/bench/report?${q("dimension=day&metrics=events,purchases,revenue,buyers")}`,
        )),
    );
    out.byDayTotals = check.totals;
    out.byJourneyMs = await timed(5, () =>
      api(
        url,
        "GET",
        `/v1/data-views/bench/report?${q("dimension=journey&metrics=clicks,delivered,ctr")}`,
      ),
    );
    out.byWeekAllMetricsMs = await timed(5, () =>
      api(url, "GET", `/v1/data-views/bench/report?${q("dimension=week")}`),
    );
    out.journeysViewMs = await timed(5, () =>
      api(url, "GET", `/v1/data-views/journeys/report?${q("dimension=journey")}`),
    );
    out.attributionMs = await timed(5, () =>
      api(
        url,
        "GET",
        `/v1/reports/journeys?${q("conversion=purchase&value=data.amount&model=linear&window=P7D")}`,
      ),
    );
    Object.assign(
      out,
      await isolation(url, q("conversion=purchase&value=data.amount&model=linear&window=P30D")),
    );
    out.sqliteByDayMs = await timed(5, () => floor.byDay(start, today - 0));
    out.sqliteByJourneyMs = await timed(5, () => floor.byJourney(start, today));
    out.sqliteJourneysViewMs = await timed(5, () => floor.journeys(start, today));
    out.sqliteAttributionMs = await timed(5, () => floor.attribution(start, today, 7 * DAY));
    return out;
  } finally {
    floor.close();
    await worker?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

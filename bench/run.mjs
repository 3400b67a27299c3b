// `npm run bench [-- --profiles 100000] [-- --only ingest,merge,batch,widget]`
// Starts Tessera locally (wrangler dev, local D1) on a fresh database, generates a
// deterministic data set, measures, prints one table and writes bench/results/latest.json.
// Requests go to 127.0.0.1 only, with bounded loops.
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { applyMigrations, ROOT, startWorker } from "../scripts/lib/local-worker.mjs";
import { tracking, webhooks } from "./activation.mjs";
import { openBaseline } from "./baseline.mjs";
import { computed } from "./computed.mjs";
import { BENCH_DATASETS, eventsOf, generate, profiles } from "./data.mjs";
import { lanes } from "./lanes.mjs";
import { concurrently, percentile } from "./load.mjs";
import { reports } from "./reports.mjs";
import { scale } from "./scale.mjs";
import { whatif } from "./whatif.mjs";

const { values } = parseArgs({
  options: {
    profiles: { type: "string", default: "10000" },
    only: {
      type: "string",
      default:
        "ingest,lookup,segments,merge,export,batch,tracking,webhooks,widget,reports,computed,whatif",
    }, // DEFAULT_ONLY
    // reports: events spread over 90 days for the journey analytics figures
    "report-events": { type: "string", default: "1000000" },
    lookups: { type: "string", default: "2000" },
    "batch-rows": { type: "string", default: "100000" },
    clients: { type: "string", default: "2" },
    // lanes: simulated D1 round-trip latencies (ms), profiles for the backfill comparison
    delays: { type: "string", default: "0,5,20" },
    // reports: only the isolation figure (ingest p99 idle and beside four reports)
    "report-isolation-only": { type: "boolean", default: false },
    "backfill-profiles": { type: "string", default: "100000" },
    "lane-requests": { type: "string", default: "3000" },
    // scale: shard counts, simulated delay per call between objects, lane time per item (ms)
    shards: { type: "string", default: "1,4" },
    rpcs: { type: "string", default: "0,20" },
    "item-ms": { type: "string", default: "0,2" },
    "scale-calls": { type: "string", default: "400" },
  },
});
const PROFILES = Number(values.profiles);
/** Where docs/performance.md holds the latest full run's table (replaced by a full run). */
const BENCH_START = "<!-- bench:latest-full-run -->";
const BENCH_END = "<!-- /bench:latest-full-run -->";
const DEFAULT_ONLY =
  "ingest,lookup,segments,merge,export,batch,tracking,webhooks,widget,reports,computed,whatif";
const isDefaultOnly = () => values.only === DEFAULT_ONLY;
const ONLY = new Set(values.only.split(","));
const CLIENTS = Number(values.clients);
const ADMIN = "sk_bench_admin_key_local_only";
const results = { machine: machine(), profiles: PROFILES, startedAt: new Date().toISOString() };

function machine() {
  const cpus = execFileSync("nproc").toString().trim();
  return { node: process.version, cpus: Number(cpus) };
}

async function api(url, method, pathname, body, headers = {}) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** Runs a list of tasks with `clients` concurrent loops; returns seconds. */
const runTasks = async (tasks, clients) =>
  (await concurrently(tasks.length, clients, (i) => tasks[i]())).seconds;

function serverTiming(headers) {
  const value = headers.get("server-timing") ?? "";
  const phases = Object.fromEntries(
    [...value.matchAll(/(\w+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]),
  );
  return {
    writerMs: phases.writer ?? NaN,
    roundTrips: Number(/rt=(\d+)/.exec(value)?.[1] ?? NaN),
    phases,
  };
}

/** Median of each Server-Timing phase over calls, plus the rest of the call (HTTP, parsing, validation). */
function phaseBreakdown(samples) {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.phases)))];
  const out = Object.fromEntries(
    names.map((n) => [n, median(samples.map((s) => s.phases[n] ?? 0))]),
  );
  out.outsideWriter = median(samples.map((s) => s.totalMs - (s.phases.writer ?? 0)));
  out.total = median(samples.map((s) => s.totalMs));
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Lets the event loop run after long synchronous work (the raw-SQLite baseline writes
 * block it for ~50 s at 1M profiles). The local server closes keep-alive connections that
 * sit idle; while the loop is blocked, fetch cannot see those closes, and the next request
 * on such a socket fails with "other side closed" — what broke every 1M lookup step. A
 * moment of idle loop lets fetch drop the closed sockets and open fresh ones.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

async function ingest(url) {
  const { records, events } = generate(PROFILES);
  const send = (kind, items) => {
    const calls = [];
    const roundTrips = [];
    const samples = [];
    for (let i = 0; i < items.length; i += 1000) {
      const chunk = items.slice(i, i + 1000);
      calls.push(async () => {
        const started = performance.now();
        const res = await api(url, "POST", `/v1/${kind}`, { [kind]: chunk });
        if (res.status !== 200 || res.json.rejected.length)
          throw new Error(`${kind}: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
        const timing = serverTiming(res.headers);
        roundTrips.push(timing.roundTrips);
        samples.push({ totalMs: performance.now() - started, phases: timing.phases });
      });
    }
    return { calls, roundTrips, samples };
  };
  const rec = send("records", records);
  const recordSeconds = await runTasks(rec.calls, CLIENTS);
  const ev = send("events", events);
  const eventSeconds = await runTasks(ev.calls, CLIENTS);

  const baseline = openBaseline();
  const baseRecordSeconds = baseline.write("records", records);
  const baseEventSeconds = baseline.write("events", events);
  results.baselineDb = baseline;
  await settle();
  results.ingest = {
    records: records.length,
    events: events.length,
    recordsPerSecond: Math.round(records.length / recordSeconds),
    eventsPerSecond: Math.round(events.length / eventSeconds),
    roundTripsPerEventCall: median(ev.roundTrips),
    roundTripsPerRecordCall: median(rec.roundTrips),
    eventCallMs: phaseBreakdown(ev.samples),
    recordCallMs: phaseBreakdown(rec.samples),
    baseline: {
      recordsPerSecond: Math.round(records.length / baseRecordSeconds),
      eventsPerSecond: Math.round(events.length / baseEventSeconds),
    },
  };
}

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => Number(percentile(sorted, p).toFixed(2));
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** Random identities of the generated profiles (deterministic), looked up over HTTP and in raw SQLite. */
async function lookup(url) {
  const all = [...profiles(PROFILES)];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const count = Number(values.lookups);
  const picks = Array.from({ length: count }, () => {
    const p = all[Math.floor(random() * all.length)];
    return p.identities[Math.floor(random() * p.identities.length)];
  });
  // Warm up (first requests pay for isolate start-up and D1 cache).
  for (const ident of picks.slice(0, 50))
    await api(
      url,
      "GET",
      `/v1/profiles/by-identity/${ident.namespace}/${encodeURIComponent(ident.id)}`,
    );
  const samples = [];
  const tasks = picks.map((ident) => async () => {
    const started = performance.now();
    const res = await fetch(
      `${url}/v1/profiles/by-identity/${ident.namespace}/${encodeURIComponent(ident.id)}`,
      { headers: { authorization: `Bearer ${ADMIN}` } },
    );
    await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`lookup ${ident.namespace}:${ident.id} → ${res.status}`);
    samples.push(performance.now() - started);
  });
  const seconds = await runTasks(tasks, CLIENTS);
  const raw = [];
  const baseline = results.baselineDb;
  if (baseline) {
    for (const ident of picks) {
      const started = performance.now();
      baseline.lookup(ident.namespace, ident.id);
      raw.push(performance.now() - started);
    }
  }
  results.lookup = {
    requests: count,
    clients: CLIENTS,
    perSecond: Math.round(count / seconds),
    ms: percentiles(samples),
    baselineMs: raw.length ? percentiles(raw) : null,
  };
}

/** A segment over every profile (background), then the cost streaming evaluation adds to ingest. */
async function segments(url) {
  // Streaming cost: 1,000-event calls touching existing profiles, timed before and after a
  // segment exists (evaluation runs in memory inside the write lane, after each call).
  const now = Date.now();
  const sample = [...profiles(Math.min(PROFILES, 10_000))];
  const half = Math.floor(sample.length / 2);
  const timeCalls = async (people, tag) => {
    const totals = [];
    for (let i = 0; i < people.length; i += 1000) {
      const batch = people
        .slice(i, i + 1000)
        .map((q) => ({ ...eventsOf(q, now)[1], id: `seg-bench-${tag}-${q.i}` }));
      const t = performance.now();
      await api(url, "POST", "/v1/events", { events: batch });
      totals.push(performance.now() - t);
    }
    return median(totals);
  };
  const withoutSegment = await timeCalls(sample.slice(0, half), "a");

  const started = performance.now();
  await api(url, "PUT", "/v1/segments/bench-gold-buyers", {
    name: "Gold buyers",
    public: true,
    rule: {
      all: [
        { attr: "loyalty.tier", op: "eq", value: "gold" },
        { event: "purchase", within: "P30D", count: { gte: 1 } },
      ],
    },
  });
  let segment;
  const deadline = Date.now() + 30 * 60_000;
  do {
    await new Promise((r) => setTimeout(r, 500));
    segment = (await api(url, "GET", "/v1/segments/bench-gold-buyers")).json;
  } while (segment.status !== "ready" && Date.now() < deadline);
  const backgroundSeconds = (performance.now() - started) / 1000;
  const withSegment = await timeCalls(sample.slice(half), "b");
  results.segments = {
    profiles: segment.evaluatedProfiles,
    size: segment.size,
    status: segment.status,
    backgroundSeconds: Number(backgroundSeconds.toFixed(1)),
    // Medians of two sets of calls: noisy on a small machine; read with the call time.
    streamingMsPer1000EventCall: Number((withSegment - withoutSegment).toFixed(0)),
    callMsPer1000EventCall: Number(withSegment.toFixed(0)),
  };
}

/** The transport floor: GET /health through the same local server, same clients. */
async function httpFloor(url) {
  for (let i = 0; i < 30; i++) await fetch(`${url}/health`).then((r) => r.arrayBuffer());
  const { latencies } = await concurrently(1000, CLIENTS, () =>
    fetch(`${url}/health`).then((r) => r.arrayBuffer()),
  );
  results.httpFloor = percentiles(latencies);
}

/** Export every profile to the bound R2 bucket; profiles per second. */
async function exportRun(url) {
  await api(url, "PUT", "/v1/destinations/bench-r2", {
    type: "r2",
    schedule: "manual",
    includeNoConsent: true,
  });
  const started = performance.now();
  const { runId } = (await api(url, "POST", "/v1/destinations/bench-r2/runs")).json;
  let run;
  const deadline = Date.now() + 60 * 60_000;
  do {
    await new Promise((r) => setTimeout(r, 500));
    run = (await api(url, "GET", "/v1/destinations/bench-r2/runs")).json.items.find(
      (r) => r.runId === runId,
    );
  } while (run.status !== "completed" && run.status !== "failed" && Date.now() < deadline);
  const seconds = (performance.now() - started) / 1000;
  results.export = {
    status: run.status,
    profiles: run.profiles,
    parts: run.parts.length,
    seconds: Number(seconds.toFixed(1)),
    profilesPerSecond: Math.round(run.profiles / seconds),
    error: run.error,
  };
}

/** D1's file size over profiles: what a profile costs in storage. */
function storage(persistTo) {
  const files = readdirSync(persistTo, { recursive: true })
    .map((f) => path.join(persistTo, String(f)))
    .filter((f) => /\.sqlite(-wal)?$/.test(f) && f.includes(`${path.sep}d1${path.sep}`));
  const bytes = files.map((f) => statSync(f).size).reduce((a, b) => a + b, 0);
  const main = files
    .filter((f) => f.endsWith(".sqlite"))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  const db = new DatabaseSync(main, { readOnly: true });
  const count = Number(db.prepare("SELECT count(*) AS n FROM profiles").get().n);
  // Table by table (each table's rows and each of its indexes), from SQLite's page statistics.
  const owners = new Map(
    db
      .prepare("SELECT name, tbl_name FROM sqlite_master")
      .all()
      .map((r) => [r.name, r.tbl_name]),
  );
  const byTable = {};
  for (const { name, bytes: b } of db
    .prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name")
    .all()) {
    const table = owners.get(name) ?? name;
    const entry = (byTable[table] ??= { total: 0, parts: {} });
    entry.total += Number(b);
    entry.parts[name === table ? "rows" : name] = Math.round(Number(b) / Math.max(1, count));
  }
  const pageSize = Number(db.prepare("PRAGMA page_size").get().page_size);
  const freePages = Number(db.prepare("PRAGMA freelist_count").get().freelist_count);
  const walBytes = files
    .filter((f) => f.endsWith("-wal"))
    .map((f) => statSync(f).size)
    .reduce((a, b) => a + b, 0);
  db.close();
  const tableBytes = Object.values(byTable).reduce((sum, e) => sum + e.total, 0);
  const perProfile = Object.fromEntries(
    Object.entries(byTable)
      .sort((a, b) => b[1].total - a[1].total)
      .map(([t, e]) => [
        t,
        { bytesPerProfile: Math.round(e.total / Math.max(1, count)), ...e.parts },
      ]),
  );
  const per = (n) => Math.round(n / Math.max(1, count));
  results.storage = {
    d1Bytes: bytes,
    profiles: count,
    bytesPerProfile: count ? Math.round(bytes / count) : null,
    tablesPerProfile: per(tableBytes),
    freePerProfile: per(freePages * pageSize),
    walPerProfile: per(walBytes),
    byTable: perProfile,
  };
  console.log(
    `storage: files ${per(bytes)} B/profile = tables and indexes ${per(tableBytes)} + free pages ${per(freePages * pageSize)} + WAL ${per(walBytes)} (+ file headers)`,
  );
  console.log(
    `storage: ${count} profiles, ${Math.round(bytes / Math.max(1, count))} bytes per profile; by table (bytes per profile):`,
  );
  for (const [t, e] of Object.entries(perProfile))
    console.log(
      `  ${t.padEnd(28)} ${String(e.bytesPerProfile).padStart(6)}  ${JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k]) => k !== "bytesPerProfile")))}`,
    );
}

async function merge(url) {
  results.merge = {};
  for (const k of [2, 10, 25]) {
    const times = [];
    const statements = [];
    for (let rep = 0; rep < 7; rep++) {
      const tag = `m${k}r${rep}`;
      const devices = (side) =>
        Array.from({ length: k - 1 }, (_, d) => ({
          namespace: "device",
          id: `merge-${tag}-${side}-${String(d).padStart(8, "0")}`,
        }));
      const at = new Date(Date.now() - 60_000).toISOString();
      await api(url, "POST", "/v1/events", {
        type: "setup",
        timestamp: at,
        identities: [{ namespace: "crm", id: `A-${tag}` }, ...devices("a")],
      });
      await api(url, "POST", "/v1/events", {
        type: "setup",
        timestamp: at,
        identities: [{ namespace: "email", id: `b-${tag}@merge.example` }, ...devices("b")],
      });
      const started = performance.now();
      const res = await api(url, "POST", "/v1/events", {
        type: "login",
        identities: [
          { namespace: "crm", id: `A-${tag}` },
          { namespace: "email", id: `b-${tag}@merge.example` },
        ],
      });
      times.push(performance.now() - started);
      statements.push(serverTiming(res.headers).roundTrips);
      if (res.json.profiles.length !== 1) throw new Error("merge did not merge");
    }
    results.merge[`k${k}`] = {
      medianMs: Number(median(times).toFixed(1)),
      statements: median(statements),
      identitiesAfter: 2 * k,
    };
  }
}

async function batch(url) {
  const rows = Number(values["batch-rows"]);
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-bench-batch-"));
  const file = path.join(dir, "rows.csv");
  execFileSync(process.execPath, [
    path.join(ROOT, "bench/make-batch-file.mjs"),
    "--rows",
    String(rows),
    "--out",
    file,
  ]);
  await api(url, "PUT", "/v1/datasets/bench-batch", { kind: "records" });
  const body = readFileSync(file);
  const started = performance.now();
  const up = await fetch(`${url}/v1/batches?dataset=bench-batch&format=csv`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${ADMIN}`,
      "content-type": "text/csv",
      "content-length": String(body.length),
    },
    body,
  });
  const { batchId } = await up.json();
  let status;
  const deadline = Date.now() + 30 * 60_000;
  do {
    await new Promise((r) => setTimeout(r, 500));
    status = (await api(url, "GET", `/v1/batches/${batchId}`)).json;
  } while (status.status !== "completed" && status.status !== "failed" && Date.now() < deadline);
  const seconds = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  results.batch = {
    rows,
    bytes: body.length,
    status: status.status,
    seconds: Number(seconds.toFixed(1)),
    rowsPerSecond: Math.round(status.rows.ingested / seconds),
  };
}

function widget() {
  execFileSync(process.execPath, [path.join(ROOT, "widget/build.mjs")], { stdio: "ignore" });
  const code = readFileSync(path.join(ROOT, "public/widget.js"));
  results.widget = {
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    budgetBytes: 15 * 1024,
  };
}

function printTable() {
  const rows = [];
  const i = results.ingest;
  if (i) {
    rows.push([
      "ingest events/s (1,000/call, " + CLIENTS + " clients)",
      i.eventsPerSecond,
      i.baseline.eventsPerSecond,
      `${((i.eventsPerSecond / i.baseline.eventsPerSecond) * 100).toFixed(0)}%`,
    ]);
    rows.push([
      "ingest records/s (1,000/call, " + CLIENTS + " clients)",
      i.recordsPerSecond,
      i.baseline.recordsPerSecond,
      `${((i.recordsPerSecond / i.baseline.recordsPerSecond) * 100).toFixed(0)}%`,
    ]);
    rows.push(["D1 round trips per 1,000-event call (writer)", i.roundTripsPerEventCall, "", ""]);
  }
  const l = results.lookup;
  if (l) {
    for (const p of ["p50", "p95", "p99"]) {
      rows.push([
        `lookup ${p} ms (by identity, ${CLIENTS} clients)`,
        l.ms[p],
        l.baselineMs?.[p] ?? "",
        l.baselineMs ? `${(l.ms[p] / l.baselineMs[p]).toFixed(0)}×` : "",
      ]);
    }
    rows.push(["lookups/s", l.perSecond, "", ""]);
  }
  if (results.httpFloor)
    rows.push([
      "HTTP floor: GET /health p50 / p99 ms",
      `${results.httpFloor.p50} / ${results.httpFloor.p99}`,
      "",
      "(local dev server)",
    ]);
  if (i?.eventCallMs) {
    const b = i.eventCallMs;
    rows.push(["1,000-event call, median ms: total", b.total.toFixed(0), "", ""]);
    rows.push([
      "  outside the writer (HTTP, JSON, validation)",
      b.outsideWriter.toFixed(0),
      "",
      "",
    ]);
    if (b.validate !== undefined)
      rows.push(["    of which item validation in the Worker", b.validate.toFixed(0), "", ""]);
    for (const k of ["load", "apply", "persist"])
      if (b[k] !== undefined) rows.push([`  writer: ${k}`, b[k].toFixed(0), "", ""]);
  }
  const sg = results.segments;
  if (sg) {
    rows.push([
      `segment over ${sg.profiles} profiles (background s)`,
      sg.backgroundSeconds,
      "",
      `size ${sg.size}`,
    ]);
    rows.push([
      "streaming segment cost per 1,000-event call (ms)",
      sg.streamingMsPer1000EventCall,
      "",
      `call ${sg.callMsPer1000EventCall} ms`,
    ]);
  }
  for (const [k, m] of Object.entries(results.merge ?? {}))
    rows.push([
      `merge two graphs of ${k.slice(1)} (ms, D1 round trips)`,
      `${m.medianMs} ms, ${m.statements}`,
      "",
      "",
    ]);
  if (results.export)
    rows.push([
      `export ${results.export.profiles} profiles to R2 (profiles/s)`,
      results.export.profilesPerSecond,
      "",
      `${results.export.seconds} s`,
    ]);
  if (results.storage?.bytesPerProfile)
    rows.push([
      "D1 bytes per profile (all tables, indexes)",
      results.storage.bytesPerProfile,
      "",
      `${(results.storage.d1Bytes / 1e6).toFixed(0)} MB`,
    ]);
  if (results.batch)
    rows.push([
      `batch file ${results.batch.rows} rows (rows/s)`,
      results.batch.rowsPerSecond,
      "",
      `${results.batch.seconds} s`,
    ]);
  if (results.widget)
    rows.push(["widget.js gzip bytes (budget 15,360)", results.widget.gzipBytes, "", ""]);
  if (results.tracking) {
    rows.push([
      "tracking /v1/batch, 100 msgs/call, 8 clients (msgs/s)",
      results.tracking.batchPerSecond,
      "",
      "",
    ]);
    rows.push([
      "  /v1/events, same data, 100 events/call (events/s)",
      results.tracking.eventsPerSecond,
      "",
      `${((results.tracking.batchPerSecond / results.tracking.eventsPerSecond) * 100).toFixed(0)}%`,
    ]);
  }
  if (results.webhooks) {
    rows.push([
      "webhook: ingest call → receiver p50 / p99 ms",
      `${results.webhooks.latencyMs.p50} / ${results.webhooks.latencyMs.p99}`,
      "",
      "",
    ]);
    rows.push([
      "webhook deliveries/s (fast receiver)",
      results.webhooks.deliveriesPerSecond,
      "",
      `${results.webhooks.deliveries} delivered`,
    ]);
    const { aloneDeliveriesPerSecond: alone, besideHangingPerSecond: beside } = results.webhooks;
    rows.push([
      "  same, 2,000 profiles: alone / beside a receiver that never answers",
      `${alone} / ${beside}`,
      "",
      `${((beside / alone) * 100).toFixed(0)}% (target ≥ 80%)`,
    ]);
  }
  const rp = results.reports;
  if (rp) {
    const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(1)}×` : "");
    if (rp.byDayMs !== undefined) {
      rows.push([
        `90-day report over ${rp.events} events: by day, 4 metrics (ms)`,
        rp.byDayMs,
        rp.sqliteByDayMs,
        ratio(rp.byDayMs, rp.sqliteByDayMs),
      ]);
      rows.push([
        "  by data.journey, 2 metrics + calculated (ms)",
        rp.byJourneyMs,
        rp.sqliteByJourneyMs,
        ratio(rp.byJourneyMs, rp.sqliteByJourneyMs),
      ]);
      rows.push(["  by week, all 7 metrics (ms)", rp.byWeekAllMetricsMs, "", ""]);
      rows.push([
        "  built-in journeys view by journey (ms, target ≤ 1,000)",
        rp.journeysViewMs,
        rp.sqliteJourneysViewMs,
        ratio(rp.journeysViewMs, rp.sqliteJourneysViewMs),
      ]);
      rows.push([
        "  journey attribution, linear, P7D (ms, target ≤ 1,000)",
        rp.attributionMs,
        rp.sqliteAttributionMs,
        ratio(rp.attributionMs, rp.sqliteAttributionMs),
      ]);
    }
    if (rp.ingestIdleP99Ms !== undefined) {
      const b = rp.besideReports;
      rows.push([
        "single-event ingest p99: idle / beside 4 reports (ms)",
        `${rp.ingestIdleP99Ms} / ${rp.ingestBesideReportsP99Ms}`,
        "",
        `${ratio(rp.ingestBesideReportsP99Ms, rp.ingestIdleP99Ms)} (target ≤ 3×)`,
      ]);
      rows.push([
        "  the reports meanwhile: done / refused (429) / failed",
        `${b.completed} / ${b.limited} / ${b.failed}`,
        "",
        `p50 ${b.p50Ms} ms`,
      ]);
    }
  }
  const widths = [52, 18, 16, 10];
  const line = (cells) =>
    cells
      .map((c, j) => String(c).padEnd(widths[j]))
      .join(" ")
      .trimEnd();
  const table = [
    `Tessera benchmark — ${PROFILES} profiles, Node ${results.machine.node}, ${results.machine.cpus} cores`,
    line(["measure", "Tessera", "raw SQLite", "ratio"]),
    "-".repeat(100),
    ...rows.map(line),
  ].join("\n");
  console.log(`\n${table}`);
  saveTable(table);
}

/** The table as the latest run's file; a full run (no --only) also replaces the table in docs/performance.md. */
function saveTable(table) {
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const block = `${BENCH_START}\n\`${command}\`:\n\n\`\`\`\n${table}\n\`\`\`\n${BENCH_END}`;
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/latest.md"), `${block}\n`);
  if (!isDefaultOnly()) return;
  const doc = path.join(ROOT, "docs/performance.md");
  const text = readFileSync(doc, "utf8");
  const [at, end] = [text.indexOf(BENCH_START), text.indexOf(BENCH_END)];
  if (at < 0 || end < at) return;
  writeFileSync(doc, text.slice(0, at) + block + text.slice(end + BENCH_END.length));
  console.log("bench: the table in docs/performance.md is this run's");
}

/** Sections that start their own Workers; when only they are asked for, the run ends after them. */
const OWN_WORKER_SECTIONS = ["lanes", "computed", "whatif", "scale"];

/** Writes what is measured so far; ends the run when nothing but own-Worker sections was asked for. */
function savedSection() {
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/latest.json"), JSON.stringify(results, null, 2));
  const pending = OWN_WORKER_SECTIONS.filter((s) => ONLY.has(s) && !(s in results));
  if (pending.length === 0 && [...ONLY].every((o) => OWN_WORKER_SECTIONS.includes(o))) {
    console.log("\nwritten: bench/results/latest.json");
    process.exit(0);
  }
}

if (ONLY.has("scale")) {
  // One Worker per shard count × simulated delays (bench/scale.mjs).
  const numbers = (text) => text.split(",").map(Number);
  results.scale = await scale({
    shardCounts: numbers(values.shards),
    rpcs: numbers(values.rpcs),
    items: numbers(values["item-ms"]),
    calls: Number(values["scale-calls"]),
  });
  console.log(JSON.stringify(results.scale.readings ?? {}, null, 2));
  savedSection();
}

if (ONLY.has("lanes")) {
  // One Worker per simulated latency.
  results.lanes = await lanes({
    delays: values.delays.split(",").map(Number),
    seedProfiles: PROFILES,
    backfillProfiles: Number(values["backfill-profiles"]),
    requests: Number(values["lane-requests"]),
  });
  savedSection();
}

if (ONLY.has("computed")) {
  // Five computed attributes on 1,000-event calls, and a backfill beside single events.
  results.computed = await computed({
    seedProfiles: PROFILES,
    backfillProfiles: Number(values["backfill-profiles"]),
  });
  savedSection();
}

if (ONLY.has("whatif")) {
  // A preview and an apply over `--backfill-profiles` profiles, beside single events.
  results.whatif = await whatif({ profiles: Number(values["backfill-profiles"]) });
  savedSection();
}

if (ONLY.has("reports")) {
  // Its own Worker and database: 1M events do not belong in the profile figures.
  try {
    results.reports = await reports({
      events: Number(values["report-events"]),
      isolationOnly: values["report-isolation-only"],
    });
    console.log(`reports: ${JSON.stringify(results.reports)}`);
  } catch (err) {
    (results.errors ??= []).push(`reports: ${err instanceof Error ? err.message : String(err)}`);
    console.error(`bench: step reports failed: ${results.errors.at(-1)}`);
  }
  if (ONLY.size === 1) {
    printTable();
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results/latest.json"), JSON.stringify(results, null, 2));
    console.log("\nwritten: bench/results/latest.json");
    process.exit(results.errors ? 1 : 0);
  }
}

const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-bench-"));
let worker;
try {
  await applyMigrations({ persistTo });
  worker = await startWorker({
    persistTo,
    vars: {
      TESSERA_ADMIN_KEY: ADMIN,
      TESSERA_SECRET: "bench-secret",
      TESSERA_WEBHOOK_ALLOW_INSECURE: "true",
    },
  });
  for (const [name, kind] of BENCH_DATASETS)
    await api(worker.url, "PUT", `/v1/datasets/${name}`, { kind });
  // Each step is timed and saved as it completes: a failing step is recorded, not fatal.
  const steps = [
    ["ingest", () => ingest(worker.url)],
    ["lookup", () => lookup(worker.url)],
    ["segments", () => segments(worker.url)],
    ["merge", () => merge(worker.url)],
    ["export", () => exportRun(worker.url)],
    ["lookup", () => httpFloor(worker.url)],
    ["batch", () => batch(worker.url)],
    ["tracking", async () => (results.tracking = await tracking(worker.url, ADMIN))],
    ["webhooks", async () => (results.webhooks = await webhooks(worker.url, ADMIN))],
  ];
  results.stepSeconds = {};
  for (const [name, run] of steps) {
    if (!ONLY.has(name)) continue;
    await settle();
    const started = performance.now();
    try {
      await run();
    } catch (err) {
      (results.errors ??= []).push(
        `${name}: ${err instanceof Error ? `${err.message} ${err.cause?.message ?? ""}` : String(err)}`,
      );
      console.error(`bench: step ${name} failed: ${results.errors.at(-1)}`);
      // What the local server said (workerd's own errors land here, not in the HTTP answer).
      console.error(`bench: wrangler dev output (last 20 KB):\n${worker.log()}`);
    }
    results.stepSeconds[name] = Number(
      ((performance.now() - started) / 1000 + (results.stepSeconds[name] ?? 0)).toFixed(1),
    );
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(
      path.join(ROOT, "bench/results/latest.json"),
      JSON.stringify({ ...results, baselineDb: undefined }, null, 2),
    );
  }
  if (ONLY.has("widget")) widget();
  try {
    storage(persistTo);
  } catch (err) {
    results.storage = { error: String(err) };
  }
  const baseline = results.baselineDb;
  delete results.baselineDb;
  baseline?.close();
  printTable();
  if (results.errors) console.log(`\nfailed steps:\n  ${results.errors.join("\n  ")}`);
  console.log(`step seconds: ${JSON.stringify(results.stepSeconds)}`);
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/latest.json"), JSON.stringify(results, null, 2));
  console.log("\nwritten: bench/results/latest.json");
} finally {
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

// `npm run bench -- --only lanes`: the write lane under many small calls.
//
// For each simulated D1 latency (0, 5 and 20 ms per round trip, through the bench-only
// TESSERA_BENCH_D1_DELAY_MS switch) a fresh Worker on a fresh local D1 is seeded with
// generated profiles, then measured in one run, next to its own HTTP floor:
//   GET /health, single-event POST /v1/events and POST /v1/collect at 32 and 128 clients;
//   events/s with 10- and 1,000-event calls; D1 round trips per call and group sizes
//   (from each answer's Server-Timing `lane` entry);
// and, at 0 ms, single-event p50/p99 while a 100k-profile segment backfill runs versus idle.
// Every request goes to 127.0.0.1; every loop is bounded by a request count.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, startWorker } from "../scripts/lib/local-worker.mjs";
import { withCpu } from "./cpu.mjs";
import { BENCH_DATASETS, generate } from "./data.mjs";
import { concurrently, percentile } from "./load.mjs";

const ADMIN = "sk_bench_admin_key_local_only";
const ORIGIN = "https://bench.example";

// One keep-alive HTTP client for every measurement (the floor included): Node's fetch
// costs the client several times more CPU per request, and client and server share 2 cores.
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

export function request(url, method, pathname, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${pathname}`, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Runs `task` against a fresh local Worker on a fresh, migrated D1 with the bench's admin key
 * and `vars`; stops it and removes its state after.
 */
export async function withFreshWorker(name, vars, task) {
  const persistTo = mkdtempSync(path.join(tmpdir(), `tessera-${name}-`));
  let worker;
  try {
    await applyMigrations({ persistTo });
    worker = await startWorker({
      persistTo,
      vars: { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "bench-secret", ...vars },
    });
    return await task(worker);
  } finally {
    await worker?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

/** Runs `count` calls of `task(i)` from `clients` concurrent loops; throughput and latency. */
async function load(count, clients, task) {
  const { seconds, latencies } = await concurrently(count, clients, task);
  return {
    perSecond: Math.round(count / seconds),
    p50: Number(percentile(latencies, 50).toFixed(1)),
    p99: Number(percentile(latencies, 99).toFixed(1)),
  };
}

function laneOf(headers) {
  const timing = headers["server-timing"] ?? "";
  const m = /lane;desc="calls=(\d+) items=(\d+) rt=(\d+)"/.exec(timing);
  if (!m) return undefined;
  // How long the group held the lane (its load + apply + persist steps).
  const busyMs = ["load", "apply", "persist"].reduce(
    (t, name) => t + Number(new RegExp(`${name};dur=([\\d.]+)`).exec(timing)?.[1] ?? 0),
    0,
  );
  return { calls: Number(m[1]), items: Number(m[2]), rt: Number(m[3]), busyMs };
}

/** The key calls are made with: the admin key while seeding, then a real `ingest` key (whose check reads D1, as an SDK's would). */
let callKey = ADMIN;
export const useKey = (key) => {
  callKey = key;
};

export async function post(url, pathname, body, headers = {}) {
  const res = await request(url, "POST", pathname, {
    body: JSON.stringify(body),
    headers: { authorization: `Bearer ${callKey}`, "content-type": "application/json", ...headers },
  });
  if (res.status !== 200)
    throw new Error(`POST ${pathname}: ${res.status} ${res.text.slice(0, 200)}`);
  return { json: JSON.parse(res.text), lane: laneOf(res.headers) };
}

export async function seed(url, count) {
  const { records, events } = generate(count);
  const chunks = (items) =>
    Array.from({ length: Math.ceil(items.length / 1000) }, (_, i) =>
      items.slice(i * 1000, i * 1000 + 1000),
    );
  for (const [kind, items] of [
    ["records", records],
    ["events", events],
  ]) {
    await load(Math.ceil(items.length / 1000), 2, (i) =>
      post(url, `/v1/${kind}`, { [kind]: chunks(items)[i] }),
    );
  }
}

/**
 * A single page-view event of one of 5,000 returning devices. Its data are strings, as a
 * page view's are (path, title): a number at the top level of `data` would add a row to the
 * hourly value sums in D1.
 */
const pageView = (run, i) => ({
  type: "page.view",
  dataset: "bench-events",
  identities: [
    { namespace: "device", id: `lane-device-${String(i % 5000).padStart(6, "0")}-000000` },
  ],
  data: { path: `/products/${i}`, title: `Product ${i}`, run },
});

export async function singleEvents(url, run, count, clients) {
  const groups = [];
  const rts = [];
  const capacity = [];
  const result = await load(count, clients, async (i) => {
    const { lane } = await post(url, "/v1/events", pageView(run, i));
    if (lane) {
      groups.push(lane.calls);
      rts.push(lane.rt / lane.calls);
      if (lane.busyMs > 0) capacity.push(lane.calls / (lane.busyMs / 1000));
    }
  });
  groups.sort((a, b) => a - b);
  rts.sort((a, b) => a - b);
  capacity.sort((a, b) => a - b);
  return {
    ...result,
    groupP50: percentile(groups, 50),
    groupMax: groups.at(-1),
    roundTripsPerCall: Number(percentile(rts, 50).toFixed(2)),
    // Calls per second of lane time: what the lane could absorb if HTTP were free.
    laneCapacity: capacity.length ? Math.round(percentile(capacity, 50)) : undefined,
  };
}

async function collectEvents(url, key, run, count, clients) {
  return load(count, clients, async (i) => {
    const device = `collect-${run}-${String(i).padStart(8, "0")}`;
    const res = await request(url, "POST", `/v1/collect?device=${device}`, {
      body: JSON.stringify({ events: [{ type: "page.view", data: { i } }] }),
      headers: { authorization: `Bearer ${key}`, "content-type": "text/plain", origin: ORIGIN },
    });
    if (res.status !== 200) throw new Error(`collect: ${res.status} ${res.text.slice(0, 200)}`);
  });
}

async function shard(url) {
  const res = await request(url, "GET", "/v1/admin/shards", {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return JSON.parse(res.text).shards[0];
}

/** Waits until D1's projection holds every commit (the writer answers only then, so this is short). */
async function projected(url) {
  for (let i = 0; i < 200 && (await shard(url)).projectionLag > 0; i++)
    await new Promise((r) => setTimeout(r, 50));
}

/**
 * Rows written per event, from the stores' own counters (DO SQLite's `rowsWritten`, D1's
 * `rows_written`: table rows and index entries alike), for `calls` calls of `perCall`
 * events made one after another.
 */
async function rowsPerEvent(url, run, calls, perCall) {
  await projected(url);
  const before = await shard(url);
  for (let i = 0; i < calls; i++) {
    const events = Array.from({ length: perCall }, (_, k) =>
      pageView(`${run}-${i}`, i * perCall + k),
    );
    await post(url, "/v1/events", perCall === 1 ? events[0] : { events });
  }
  await projected(url);
  const after = await shard(url);
  const n = calls * perCall;
  const per = (key) => Number(((after.rowsWritten[key] - before.rowsWritten[key]) / n).toFixed(2));
  return { shard: per("shard"), projection: per("projection") };
}

/** `task()` while sampling the projection's lag every 100 ms: its p50 and p99 (ms). */
async function withLagSamples(url, task) {
  const samples = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      samples.push((await shard(url)).projectionLag);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await task();
  running = false;
  await sampler;
  samples.sort((a, b) => a - b);
  return {
    result,
    lag: { samples: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99) },
  };
}

async function health(url, count, clients) {
  return load(count, clients, () => request(url, "GET", "/health"));
}

export async function ingestKey(url) {
  const res = await request(url, "POST", "/v1/keys", {
    body: JSON.stringify({ name: "lanes ingest", kind: "secret", scopes: ["ingest"] }),
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });
  return JSON.parse(res.text).key;
}

async function publicKey(url) {
  const res = await request(url, "POST", "/v1/keys", {
    body: JSON.stringify({ name: "lanes", kind: "public", origins: [ORIGIN] }),
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });
  return JSON.parse(res.text).key;
}

async function batched(url, run, perCall, calls, clients) {
  const result = await load(calls, clients, (i) =>
    post(url, "/v1/events", {
      events: Array.from({ length: perCall }, (_, k) => pageView(`${run}-${i}`, i * perCall + k)),
    }),
  );
  return { eventsPerSecond: result.perSecond * perCall, p50: result.p50, p99: result.p99 };
}

async function backfillImpact(url, options) {
  const idle = await singleEvents(url, "idle", options.requests, 8);
  const put = await request(url, "PUT", "/v1/segments/lanes-bench", {
    body: JSON.stringify({
      name: "lanes bench",
      rule: {
        all: [
          { attr: "loyalty.tier", op: "eq", value: "gold" },
          { event: "purchase", within: "P30D" },
        ],
      },
    }),
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });
  if (put.status !== 200) throw new Error(`PUT segment: ${put.status}`);
  const started = performance.now();
  const during = await singleEvents(url, "backfill", options.requests, 8);
  let status;
  for (let i = 0; i < 1200; i++) {
    status = JSON.parse(
      (
        await request(url, "GET", "/v1/segments/lanes-bench", {
          headers: { authorization: `Bearer ${ADMIN}` },
        })
      ).text,
    );
    if (status.status === "ready") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    idle: { p50: idle.p50, p99: idle.p99 },
    duringBackfill: { p50: during.p50, p99: during.p99 },
    p99Ratio: Number((during.p99 / idle.p99).toFixed(2)),
    backfillSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    backfillStillRunningAfterCalls: status?.status !== "ready" ? false : undefined,
    evaluated: status?.evaluatedProfiles,
  };
}

/** The whole lanes section; returns the results object it also prints. */
export async function lanes({
  delays = [0, 5, 20],
  seedProfiles = 10_000,
  backfillProfiles = 100_000,
  requests = 3000,
} = {}) {
  const out = { seedProfiles, requests, byDelay: {} };
  for (const delay of delays) {
    await withFreshWorker("lanes", { TESSERA_BENCH_D1_DELAY_MS: String(delay) }, async (worker) => {
      const url = worker.url;
      for (const [name, kind] of BENCH_DATASETS) {
        await request(url, "PUT", `/v1/datasets/${name}`, {
          body: JSON.stringify({ kind }),
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        });
      }
      const profilesHere = delay === 0 ? seedProfiles : Math.min(seedProfiles, 2000);
      callKey = ADMIN;
      await seed(url, profilesHere);
      callKey = await ingestKey(url);
      const r = { profiles: profilesHere };
      const n = delay === 0 ? requests : Math.round(requests / 2);
      for (const clients of [32, 128]) {
        const floor = await withCpu(worker.child.pid, n, () => health(url, n, clients));
        r[`health${clients}`] = { ...floor.result, cpu: floor.cpu };
        const events = await withCpu(worker.child.pid, n, () =>
          withLagSamples(url, () => singleEvents(url, `c${clients}`, n, clients)),
        );
        const { result, lag } = events.result;
        r[`events${clients}`] = { ...result, cpu: events.cpu };
        r[`projectionLag${clients}`] = lag;
        r[`collect${clients}`] = await collectEvents(
          url,
          await publicKey(url),
          `c${clients}`,
          Math.min(n, 2500),
          clients,
        );
      }
      r.tenEventCalls = await batched(url, "ten", 10, delay === 0 ? 600 : 200, 32);
      r.thousandEventCalls = await batched(url, "thousand", 1000, delay === 0 ? 40 : 10, 2);
      // What a typical event costs in rows written (known devices, so no new identity).
      r.rowsWritten = {
        pageView: await rowsPerEvent(url, "rows-single", 200, 1),
        thousandEventCall: await rowsPerEvent(url, "rows-thousand", 3, 1000),
      };
      out.byDelay[delay] = r;
      printDelay(delay, r);
      if (delay === 0 && backfillProfiles > 0) {
        callKey = ADMIN;
        await seed(url, backfillProfiles); // the same generator: the first profiles are upserts
        callKey = await ingestKey(url);
        out.backfill = {
          profiles: backfillProfiles,
          ...(await backfillImpact(url, { requests: Math.min(requests, 2000) })),
        };
        console.log(`lanes: backfill ${JSON.stringify(out.backfill)}`);
      }
    });
  }
  return out;
}

function printDelay(delay, r) {
  const pct = (a, b) => `${((a / b) * 100).toFixed(0)}%`;
  console.log(`\nlanes — simulated D1 latency ${delay} ms per round trip, ${r.profiles} profiles`);
  for (const clients of [32, 128]) {
    const h = r[`health${clients}`];
    const e = r[`events${clients}`];
    const c = r[`collect${clients}`];
    console.log(
      `  ${clients} clients: GET /health ${h.perSecond}/s | POST /v1/events ×1 ${e.perSecond}/s (${pct(e.perSecond, h.perSecond)} of floor; p50 ${e.p50} ms, p99 ${e.p99} ms; group p50 ${e.groupP50}, max ${e.groupMax}; ${e.roundTripsPerCall} D1 round trips per call; lane capacity ${e.laneCapacity}/s) | POST /v1/collect ${c.perSecond}/s (${pct(c.perSecond, h.perSecond)})`,
    );
  }
  for (const clients of [32, 128]) {
    const h = r[`health${clients}`].cpu;
    const e = r[`events${clients}`].cpu;
    console.log(
      `  CPU per call at ${clients} clients — server (wrangler dev + workerd): GET /health ${h.serverUs} µs, single event ${e.serverUs} µs (${(e.serverUs / h.serverUs).toFixed(1)}×) | load generator: ${h.clientUs} µs, ${e.clientUs} µs`,
    );
  }
  console.log(
    `  10-event calls: ${r.tenEventCalls.eventsPerSecond} events/s | 1,000-event calls: ${r.thousandEventCalls.eventsPerSecond} events/s`,
  );
  for (const clients of [32, 128]) {
    const lag = r[`projectionLag${clients}`];
    console.log(
      `  projection lag under the ${clients}-client load: p50 ${lag.p50} ms, p99 ${lag.p99} ms (${lag.samples} samples of GET /v1/admin/shards)`,
    );
  }
  const { pageView, thousandEventCall } = r.rowsWritten;
  console.log(
    `  rows written per event — single page view: ${pageView.shard} in the writer's SQLite + ${pageView.projection} in D1 | in 1,000-event calls: ${thousandEventCall.shard} + ${thousandEventCall.projection}`,
  );
}

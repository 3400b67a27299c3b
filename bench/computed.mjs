// `npm run bench -- --only computed`: what computed attributes cost, on a fresh Worker.
//
// 1. 1,000-event calls of purchases on a seeded database, without and with five computed
//    attributes (count, sum, max, last, mostFrequent), in the same run on two Workers seeded
//    alike: events/s and the ratio (SPEC §7 keeps them current in the write, so this is
//    their whole cost).
// 2. A definition created over `backfillProfiles` profiles: single-event p50/p99 while it
//    is computed in the background, against idle, and how long the computation took.
// Every request goes to 127.0.0.1; every loop is bounded by a request count.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, startWorker } from "../scripts/lib/local-worker.mjs";
import { BENCH_DATASETS } from "./data.mjs";
import { ingestKey, post, request, seed, singleEvents, useKey } from "./lanes.mjs";
import { concurrently, percentile } from "./load.mjs";

const ADMIN = "sk_bench_admin_key_local_only";
const CATEGORIES = ["camping", "kitchen", "shoes", "books", "garden"];

export const FIVE = {
  orders: { name: "Orders", aggregate: "count", filter: { type: ["purchase"] } },
  ltv: {
    name: "Lifetime value",
    aggregate: "sum",
    field: "data.amount",
    filter: { type: ["purchase"] },
  },
  largest: {
    name: "Largest order",
    aggregate: "max",
    field: "data.amount",
    filter: { type: ["purchase"] },
  },
  last_sku: {
    name: "Last product",
    aggregate: "last",
    field: "data.sku",
    filter: { type: ["purchase"] },
  },
  category: {
    name: "Favourite category",
    aggregate: "mostFrequent",
    field: "data.category",
    filter: { type: ["purchase"] },
  },
};

export const admin = (url, method, pathname, body) =>
  request(url, method, pathname, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
  });

/** A purchase by one of 5,000 returning devices. */
const purchase = (run, i) => ({
  type: "purchase",
  dataset: "bench-events",
  identities: [
    { namespace: "device", id: `lane-device-${String(i % 5000).padStart(6, "0")}-000000` },
  ],
  data: {
    run,
    amount: (i % 200) + 1,
    sku: `SKU-${i % 50}`,
    category: CATEGORIES[i % CATEGORIES.length],
  },
});

async function thousandEventCalls(url, run, calls) {
  const { seconds, latencies } = await concurrently(calls, 2, (i) =>
    post(url, "/v1/events", {
      events: Array.from({ length: 1000 }, (_, k) => purchase(`${run}-${i}`, i * 1000 + k)),
    }),
  );
  return {
    eventsPerSecond: Math.round((calls * 1000) / seconds),
    p50: Number(percentile(latencies, 50).toFixed(1)),
    p99: Number(percentile(latencies, 99).toFixed(1)),
  };
}

async function waitReady(url, ids) {
  const started = performance.now();
  const samples = [];
  for (let i = 0; i < 2400; i++) {
    const items = JSON.parse(
      (await admin(url, "GET", "/v1/computed-attributes")).text,
    ).items.filter((a) => ids.includes(a.id));
    samples.push(items.map((a) => a.progress.computedIdentities));
    if (items.length === ids.length && items.every((a) => a.status === "ready")) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    progressSamples: samples.length,
  };
}

/** A fresh Worker on a fresh local D1, seeded with `profiles` generated profiles, calling with an ingest key. */
export async function seeded(profiles) {
  const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-computed-"));
  await applyMigrations({ persistTo });
  const worker = await startWorker({
    persistTo,
    vars: { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "bench-secret" },
  });
  for (const [name, kind] of BENCH_DATASETS)
    await admin(worker.url, "PUT", `/v1/datasets/${name}`, { kind });
  useKey(ADMIN);
  await seed(worker.url, profiles);
  useKey(await ingestKey(worker.url));
  return {
    url: worker.url,
    async stop() {
      await worker.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}

/**
 * Without and with: two Workers seeded alike, so neither run is measured on a database the
 * other has grown (measured: the second of two identical runs on one database is ~5 % slower).
 */
export async function computed({
  seedProfiles = 10_000,
  backfillProfiles = 100_000,
  calls = 30,
  requests = 2000,
} = {}) {
  const out = { seedProfiles };
  const plain = await seeded(seedProfiles);
  try {
    await thousandEventCalls(plain.url, "warm", 5);
    out.without = await thousandEventCalls(plain.url, "calls", calls);
  } finally {
    await plain.stop();
  }

  const withFive = await seeded(seedProfiles);
  try {
    const url = withFive.url;
    for (const [id, body] of Object.entries(FIVE)) {
      const res = await admin(url, "PUT", `/v1/computed-attributes/${id}`, body);
      if (res.status !== 200) throw new Error(`PUT computed ${id}: ${res.status} ${res.text}`);
    }
    out.definedIn = await waitReady(url, Object.keys(FIVE));
    await thousandEventCalls(url, "warm", 5);
    out.with = await thousandEventCalls(url, "calls", calls);
    out.ratio = Number((out.with.eventsPerSecond / out.without.eventsPerSecond).toFixed(2));
    console.log(
      `\ncomputed — ${seedProfiles} profiles, 1,000-event purchase calls (2 clients), two Workers seeded alike`,
    );
    console.log(
      `  without computed attributes: ${out.without.eventsPerSecond} events/s | with five: ${out.with.eventsPerSecond} events/s (${Math.round(out.ratio * 100)}%; the five computed for ${seedProfiles} profiles in ${out.definedIn.seconds} s)`,
    );

    if (backfillProfiles > 0) {
      useKey(ADMIN);
      await seed(url, backfillProfiles); // the same generator: the first profiles are upserts
      useKey(await ingestKey(url));
      const idle = await singleEvents(url, "computed-idle", requests, 8);
      const res = await admin(url, "PUT", "/v1/computed-attributes/bench-backfill", {
        name: "Spent on page views",
        aggregate: "sum",
        field: "data.amount",
      });
      if (res.status !== 200) throw new Error(`PUT computed: ${res.status} ${res.text}`);
      const started = performance.now();
      const during = await singleEvents(url, "computed-backfill", requests, 8);
      const duringSeconds = (performance.now() - started) / 1000;
      const ready = await waitReady(url, ["bench-backfill"]);
      out.backfill = {
        profiles: backfillProfiles,
        idle: { p50: idle.p50, p99: idle.p99 },
        duringBackfill: { p50: during.p50, p99: during.p99 },
        p99Ratio: Number((during.p99 / idle.p99).toFixed(2)),
        backfillSeconds: Number((duringSeconds + ready.seconds).toFixed(1)),
        // The calls must all have run while it was computing, or the comparison says nothing.
        stillBackfillingAfterCalls: ready.seconds > 1,
      };
      console.log(
        `  backfill over ${backfillProfiles} profiles: single-event p50/p99 idle ${idle.p50}/${idle.p99} ms, during ${during.p50}/${during.p99} ms (p99 ×${out.backfill.p99Ratio}); computed in ${out.backfill.backfillSeconds} s${out.backfill.stillBackfillingAfterCalls ? "" : " (it ended before the calls did)"}`,
      );
    }
    return out;
  } finally {
    await withFive.stop();
  }
}

// `npm run bench -- --only scale`: owner shards (docs/shards.md) under simulated time.
//
// For each shard count × simulated delay per call between objects (Worker → shard, →
// coordinator, coordinator → shard: TESSERA_BENCH_RPC_MS) × simulated lane time per item
// (TESSERA_BENCH_ITEM_MS: each writer's and the coordinator's lane is held that long per
// item, without CPU), a fresh Worker on a fresh D1 is seeded with customers (crm + e-mail)
// and one anonymous device each, then runs five workloads of single-event calls from 32
// clients: page views of known devices, new devices, logins (a known device with its
// customer's crm id: a merge, across shards with probability 1 − 1/S), record updates, and
// a mix (90 % page views, 5 % logins, 5 % new devices). Per workload: calls/s, p50/p99, the
// share of calls the coordinator decided, its busy fraction and the server's CPU per call.
//
// Locally every object shares one thread, so CPU per call does not drop with more shards;
// the simulated lane time is what several shards on Cloudflare work through in parallel.
import { withCpu } from "./cpu.mjs";
import { ingestKey, post, request, useKey, withFreshWorker } from "./lanes.mjs";
import { concurrently, percentile } from "./load.mjs";

const ADMIN = "sk_bench_admin_key_local_only";
const CUSTOMERS = 1000;
const device = (i) => `scale-device-${String(i).padStart(6, "0")}-00`;
const id = (namespace, value) => ({ namespace, id: value });

async function seed(url) {
  for (const [name, kind] of [
    ["scale-crm", "records"],
    ["scale-events", "events"],
  ])
    await request(url, "PUT", `/v1/datasets/${name}`, {
      body: JSON.stringify({ kind }),
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    });
  const all = Array.from({ length: CUSTOMERS }, (_, i) => i);
  await post(url, "/v1/records", {
    records: all.map((i) => ({
      dataset: "scale-crm",
      identities: [id("crm", `S${i}`), id("email", `s${i}@scale.example`)],
      attributes: { tier: ["gold", "silver"][i % 2] },
    })),
  });
  await post(url, "/v1/events", {
    events: all.map((i) => ({
      id: `seed-${i}`,
      type: "page.view",
      dataset: "scale-events",
      identities: [id("device", device(i))],
      data: { path: "/" },
    })),
  });
}

/** Each workload's i-th call; `logins` counts customers not yet logged in (each logs in once). */
function workloads(run, logins) {
  const view = (i) => ({
    type: "page.view",
    dataset: "scale-events",
    identities: [id("device", device(i % CUSTOMERS))],
    data: { path: `/p/${i}`, run },
  });
  const fresh = (i) => ({
    type: "page.view",
    dataset: "scale-events",
    identities: [id("device", `scale-new-${run}-${String(i).padStart(8, "0")}`)],
    data: { path: "/", run },
  });
  const login = () => {
    const j = logins.next++ % CUSTOMERS;
    return {
      type: "login",
      dataset: "scale-events",
      identities: [id("device", device(j)), id("crm", `S${j}`)],
      data: { run },
    };
  };
  return {
    pageViews: (i) => ["/v1/events", view(i)],
    newDevices: (i) => ["/v1/events", fresh(i)],
    logins: () => ["/v1/events", login()],
    records: (i) => [
      "/v1/records",
      {
        dataset: "scale-crm",
        identities: [id("crm", `S${i % CUSTOMERS}`)],
        attributes: { visits: i },
      },
    ],
    mix: (i) =>
      i % 20 === 0
        ? ["/v1/events", login()]
        : i % 20 === 1
          ? ["/v1/events", fresh(i)]
          : ["/v1/events", view(i)],
  };
}

async function coordinator(url) {
  const res = await request(url, "GET", "/v1/admin/shards", {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return JSON.parse(res.text).coordinator;
}

/** The coordinator's own token (`t1.8191.…`): the call spanned shards. */
const COORDINATOR_TOKEN = /^t1\.8191\./;

async function measure(url, key, pid, calls, clients, call) {
  const before = await coordinator(url);
  const started = performance.now();
  let crossed = 0;
  const { result, cpu } = await withCpu(pid, calls, () =>
    concurrently(calls, clients, async (i) => {
      const [pathname, body] = call(i);
      const res = await request(url, "POST", pathname, {
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      });
      if (res.status !== 200) throw new Error(`POST ${pathname}: ${res.status} ${res.text}`);
      if (COORDINATOR_TOKEN.test(String(res.headers["tessera-consistency"]))) crossed++;
    }),
  );
  const wallMs = performance.now() - started;
  const after = await coordinator(url);
  return {
    perSecond: Math.round(calls / result.seconds),
    p50: Number(percentile(result.latencies, 50).toFixed(1)),
    p99: Number(percentile(result.latencies, 99).toFixed(1)),
    crossShare: Number((crossed / calls).toFixed(2)),
    transactions: after.committed - before.committed,
    coordinatorBusy: Number(((after.busyMs - before.busyMs) / wallMs).toFixed(2)),
    serverCpuUs: cpu.serverUs,
  };
}

export async function scale({ shardCounts = [1, 4], rpcs = [0, 20], items = [0, 2], calls = 400 }) {
  const out = {};
  for (const shards of shardCounts)
    for (const rpc of rpcs)
      for (const itemMs of items) {
        const vars = {
          TESSERA_SHARDS: String(shards),
          TESSERA_BENCH_RPC_MS: String(rpc),
          TESSERA_BENCH_ITEM_MS: String(itemMs),
        };
        await withFreshWorker("scale", vars, async (worker) => {
          const url = worker.url;
          useKey(ADMIN);
          await seed(url);
          const key = await ingestKey(url);
          const run = `S${shards}-r${rpc}-i${itemMs}`;
          const r = {};
          for (const [name, call] of Object.entries(workloads(run, { next: 0 })))
            r[name] = await measure(url, key, worker.child.pid, calls, 32, call);
          out[run] = { shards, rpcMs: rpc, itemMs, ...r };
          console.log(
            `scale ${run}: ${Object.entries(r)
              .map(
                ([k, v]) =>
                  `${k} ${v.perSecond}/s p99 ${v.p99} ms cross ${v.crossShare} busy ${v.coordinatorBusy} cpu ${v.serverCpuUs} µs`,
              )
              .join(" · ")}`,
          );
        });
      }
  // The figures the issue's targets read: 4 shards against 1 at 20 ms RPC and 2 ms per item.
  const one = out["S1-r20-i2"];
  const four = out["S4-r20-i2"];
  if (one && four)
    out.readings = {
      pageViews4over1: Number((four.pageViews.perSecond / one.pageViews.perSecond).toFixed(2)),
      mixOverPageViewsAt4: Number((four.mix.perSecond / four.pageViews.perSecond).toFixed(2)),
      coordinatorBusyInMixAt4: four.mix.coordinatorBusy,
    };
  return out;
}

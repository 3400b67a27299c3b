// `npm run bench -- --only whatif`: identity what-if at scale, on a fresh Worker seeded
// with `profiles` generated profiles (1–6 identities each; 0–2 devices).
//
// 1. A preview of a graph-wide change (`maxIdentities` 3) — bounded by its limit: how long
//    it takes and that it says `truncated`.
// 2. An apply of `maxPerGraph: 1` on the device namespace over every graph holding a
//    device: single-event ingest p50/p99 while it runs, against idle, and how long it took.
// Every request goes to 127.0.0.1; every loop is bounded by a request count.

import { admin, seeded } from "./computed.mjs";
import { singleEvents } from "./lanes.mjs";

async function runFinished(url, runId) {
  const started = performance.now();
  let run;
  for (let i = 0; i < 4800; i++) {
    run = JSON.parse((await admin(url, "GET", `/v1/graph-runs/${runId}`)).text);
    if (run.status === "completed") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { run, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) };
}

export async function whatif({ profiles = 100_000, requests = 2000 } = {}) {
  const w = await seeded(profiles);
  try {
    const out = { profiles };
    let t0 = performance.now();
    const preview = JSON.parse(
      (await admin(w.url, "PUT", "/v1/settings/graph?preview=true", { maxIdentities: 3 })).text,
    );
    out.preview = {
      ms: Math.round(performance.now() - t0),
      splits: preview.splits.length,
      truncated: preview.truncated,
    };

    const device = JSON.parse((await admin(w.url, "GET", "/v1/namespaces")).text).items.find(
      (n) => n.code === "device",
    );
    const idle = await singleEvents(w.url, "whatif-idle", requests, 8);
    t0 = performance.now();
    const applied = JSON.parse(
      (
        await admin(w.url, "PUT", "/v1/namespaces/device?apply=retroactive", {
          normalize: device.normalize,
          unique: false,
          priority: device.priority,
          maxPerGraph: 1,
          blockedValues: device.blockedValues,
          pseudonymous: device.pseudonymous,
        })
      ).text,
    );
    const during = await singleEvents(w.url, "whatif-apply", requests, 8);
    const { run, seconds } = await runFinished(w.url, applied.runId);
    out.apply = {
      graphsChecked: run.graphsChecked,
      splits: run.splits,
      idle: { p50: idle.p50, p99: idle.p99 },
      duringApply: { p50: during.p50, p99: during.p99 },
      p99Ratio: Number((during.p99 / idle.p99).toFixed(2)),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      stillRunningAfterCalls: seconds > 1,
    };
    console.log(`\nwhat-if — ${profiles} profiles`);
    console.log(
      `  preview of maxIdentities 3: ${out.preview.ms} ms (${out.preview.splits} splits in the first 1,000 profiles; truncated: ${out.preview.truncated})`,
    );
    console.log(
      `  apply of device maxPerGraph 1: ${run.graphsChecked} graphs, ${run.splits} splits in ${out.apply.seconds} s; single-event p50/p99 idle ${idle.p50}/${idle.p99} ms, during ${during.p50}/${during.p99} ms (p99 ×${out.apply.p99Ratio})${out.apply.stillRunningAfterCalls ? "" : " (it ended before the calls did)"}`,
    );
    return out;
  } finally {
    await w.stop();
  }
}

// `npm run bench:profile [-- --calls 2000 --clients 32 --per-call 1]`: a CPU profile of the
// Worker (its isolate: the routes, the GraphWriter and the other objects) under ingest of
// `--per-call` events per call (single events by default),
// through the DevTools inspector `wrangler dev` opens. Prints the functions that take the
// most time themselves, with their callers, and writes the whole profile to
// bench/results/ingest.cpuprofile (open it in Chrome's DevTools, Performance tab).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { applyMigrations, freePort, startWorker } from "../scripts/lib/local-worker.mjs";
import { ingestKey, post, useKey } from "./lanes.mjs";
import { concurrently } from "./load.mjs";

const ADMIN = "sk_bench_admin_key_local_only";
const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), "results/ingest.cpuprofile");
const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    clients: { type: "string", default: "32" },
    top: { type: "string", default: "25" },
    "per-call": { type: "string", default: "1" },
  },
});

const pageView = (i) => ({
  type: "page.view",
  identities: [
    { namespace: "device", id: `profile-device-${String(i % 500).padStart(6, "0")}-00` },
  ],
  data: { path: `/products/${i}` },
});

/** A DevTools protocol session on the inspector's first target. */
async function inspector(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  // The inspector proxy of wrangler dev accepts local origins only.
  const socket = new WebSocket(target.webSocketDebuggerUrl, { origin: "http://localhost" });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        pending.set(++id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** Self time per function (and its most frequent callers), as shares of the sampled time. */
function summarize(profile, top) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  const label = (frame) =>
    `${frame.functionName || "(anonymous)"} ${frame.url ? `${frame.url.split("/").at(-1)}:${frame.lineNumber + 1}` : ""}`.trim();
  const self = new Map();
  let total = 0;
  profile.samples.forEach((sample, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = nodes.get(sample);
    const key = label(node.callFrame);
    const entry = self.get(key) ?? { us: 0, callers: new Map() };
    entry.us += dt;
    const parent = parents.get(sample);
    const caller = parent === undefined ? "(root)" : label(nodes.get(parent).callFrame);
    entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + dt);
    self.set(key, entry);
  });
  return [...self]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)
    .map(([name, { us, callers }]) => {
      const [caller] = [...callers].sort((a, b) => b[1] - a[1])[0];
      return `${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}  ← ${caller}`;
    });
}

const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-profile-"));
const port = await freePort();
let worker;
try {
  await applyMigrations({ persistTo });
  worker = await startWorker({
    persistTo,
    vars: { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "bench-secret" },
    extraArgs: ["--inspector-port", String(port)],
  });
  useKey(ADMIN);
  useKey(await ingestKey(worker.url));
  const calls = Number(values.calls);
  const clients = Number(values.clients);
  const perCall = Number(values["per-call"]);
  const body = (i) =>
    perCall === 1
      ? pageView(i)
      : { events: Array.from({ length: perCall }, (_, k) => pageView(i * perCall + k)) };
  // Warm up: every device known, code paths compiled.
  await concurrently(600, clients, (i) => post(worker.url, "/v1/events", pageView(i)));

  const session = await inspector(port);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 200 });
  await session.send("Profiler.start");
  const { seconds } = await concurrently(calls, clients, (i) =>
    post(worker.url, "/v1/events", body(i)),
  );
  const { profile } = await session.send("Profiler.stop");
  session.close();
  writeFileSync(OUT, JSON.stringify(profile));
  console.log(
    `POST /v1/events with ${perCall} event(s) per call, ${clients} clients: ${Math.round((calls * perCall) / seconds)} events/s while profiled`,
  );
  console.log(`self time, top ${values.top} (of the Worker's isolate; "(idle)" is waiting):`);
  for (const line of summarize(profile, Number(values.top))) console.log(line);
  console.log(`written: ${path.relative(process.cwd(), OUT)}`);
} finally {
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

import { mkdtempSync } from "node:fs"; import { tmpdir } from "node:os"; import path from "node:path"; import http from "node:http";
import { applyMigrations, startWorker } from "/work/main/scripts/lib/local-worker.mjs";
const persistTo = mkdtempSync(path.join(tmpdir(), "probe-"));
await applyMigrations({ persistTo });
const KEY = "sk_probe_admin_key_local_only_xx";
const w = await startWorker({ persistTo, vars: { TESSERA_ADMIN_KEY: KEY, TESSERA_SECRET: "x" } });
async function load(n, c, task) { let next = 0; const t = performance.now(); await Promise.all(Array.from({ length: c }, async () => { while (next < n) { const i = next++; await task(i); } })); return Math.round(n / ((performance.now() - t) / 1000)); }
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const req = (method, p, body) => new Promise((res, rej) => { const r = http.request(`${w.url}${p}`, { method, agent, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" } }, (r) => { let d = ""; r.on("data", (c) => d += c); r.on("end", () => res([r.statusCode, d, r.headers["server-timing"]])); }); r.on("error", rej); r.end(body); });
console.log("health", await load(2000, 32, () => req("GET", "/health")));
console.log("namespaces (auth)", await load(2000, 32, () => req("GET", "/v1/namespaces")));
console.log("openapi-less: GET /v1/keys", await load(1000, 32, () => req("GET", "/v1/keys")));
const ev = (i) => JSON.stringify({ type: "page.view", identities: [{ namespace: "device", id: `probe-device-${String(i % 3000).padStart(8, "0")}` }] });
console.log("events warm (new devices)", await load(3000, 32, (i) => req("POST", "/v1/events", ev(i))));
console.log("events repeat devices", await load(3000, 32, (i) => req("POST", "/v1/events", ev(i))));
console.log("events 128", await load(3000, 128, (i) => req("POST", "/v1/events", ev(i))));
console.log(await req("POST", "/v1/events", ev(1)));
await w.stop();

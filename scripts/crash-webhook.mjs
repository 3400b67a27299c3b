// `npm run crash-webhook`: kills the local Worker between a commit and its webhook
// delivery, and checks that the delivery still arrives after a restart.
//
//  1. starts `wrangler dev` on a fresh local D1 and a receiver on 127.0.0.1 that is down
//     (503), so the first delivery attempts fail and wait for their retry;
//  2. makes 20 profiles enter a segment (the deliveries are committed with the data);
//  3. SIGKILLs workerd (the queue's pending retries die with it), brings the receiver up,
//     starts the Worker again on the same storage;
//  4. the scheduled handler (run at start, as `npm start` does) sends every due delivery;
//     the script checks that all 20 arrive, each verified with the `standardwebhooks` package.

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { applyMigrations, emulateCron, startWorker } from "./lib/local-worker.mjs";

const ADMIN = "sk_crash_admin_key_local_only";
const PROFILES = 20;
const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-crash-webhook-"));
const vars = {
  TESSERA_ADMIN_KEY: ADMIN,
  TESSERA_SECRET: "crash-secret",
  TESSERA_WEBHOOK_ALLOW_INSECURE: "true",
};

let up = false;
let secret;
const arrived = new Map();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (!up) return res.writeHead(503).end();
    try {
      const payload = new Webhook(secret).verify(Buffer.concat(chunks).toString(), req.headers);
      arrived.set(payload.data.profileId, payload);
      res.writeHead(200).end();
    } catch (err) {
      console.error(`crash-webhook: a delivery did not verify: ${err.message}`);
      res.writeHead(400).end();
    }
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const receiver = `http://127.0.0.1:${server.address().port}/hook`;

async function api(url, method, pathname, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

let worker;
try {
  await applyMigrations({ persistTo });
  worker = await startWorker({ persistTo, vars });
  await api(worker.url, "PUT", "/v1/segments/crash-gold", {
    name: "gold",
    rule: { attr: "tier", op: "eq", value: "gold" },
  });
  secret = (
    await api(worker.url, "PUT", "/v1/destinations/crash-hook", {
      type: "webhook",
      url: receiver,
      events: ["segment.entered"],
    })
  ).signingSecret;
  await api(worker.url, "POST", "/v1/records", {
    records: Array.from({ length: PROFILES }, (_, i) => ({
      dataset: "default",
      identities: [{ namespace: "crm", id: `crash-${i}` }],
      attributes: { tier: "gold" },
    })),
  });
  const before = await api(worker.url, "GET", "/v1/destinations/crash-hook/deliveries?limit=100");
  console.log(
    `crash-webhook: ${before.items.length} deliveries committed; receiver down; statuses ${JSON.stringify(countBy(before.items))}`,
  );
  await new Promise((r) => setTimeout(r, 1000)); // the first attempts fail and schedule retries
  await worker.kill();
  console.log("crash-webhook: workerd killed; receiver up; restarting");
  up = true;
  worker = await startWorker({ persistTo, vars });
  emulateCron(worker.url, 5); // the start-up sweep (npm start does the same)
  const deadline = Date.now() + 120_000;
  while (arrived.size < PROFILES && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  const after = await api(worker.url, "GET", "/v1/destinations/crash-hook/deliveries?limit=100");
  console.log(
    `crash-webhook: ${arrived.size} of ${PROFILES} arrived and verified; statuses ${JSON.stringify(countBy(after.items))}`,
  );
  const ok = arrived.size === PROFILES && after.items.every((d) => d.status === "delivered");
  console.log(
    ok
      ? "crash-webhook: OK — every committed delivery arrived after the crash"
      : "crash-webhook: FAILED",
  );
  process.exitCode = ok ? 0 : 1;
} catch (err) {
  console.error(`crash-webhook: FAILED — ${err.message}`);
  process.exitCode = 1;
} finally {
  await worker?.stop();
  server.close();
  rmSync(persistTo, { recursive: true, force: true });
}

function countBy(items) {
  return items.reduce((acc, d) => ({ ...acc, [d.status]: (acc[d.status] ?? 0) + 1 }), {});
}

// `npm run crash-projection`: kills the local Worker while commits are in the writer's own
// SQLite but not yet in D1, twice, and checks that nothing is lost.
//
//  1. starts `wrangler dev` on a fresh local database with every D1 round trip slowed to
//     200 ms (the bench's latency switch), so the D1 projection runs behind the commits;
//  2. 16 clients send single page-view events with their own ids (each seen with a device
//     and a crm id, so the graph changes too), recording every acknowledged id;
//  3. SIGKILLs workerd twice under that load, reading after each kill how many commits the
//     writer's SQLite holds that D1 has not applied yet (entries of its log above D1's watermark), and starts it
//     again on the same storage;
//  4. stops the load, waits until D1's watermark reaches the writer's last commit, stops the
//     Worker, and compares: every acknowledged event is in D1, and D1's graph tables equal
//     the writer's row for row.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  applyMigrations,
  finishScript,
  queryLocalStore,
  startWorker,
  waitUntil,
} from "./lib/local-worker.mjs";

const ADMIN = "sk_crash_admin_key_local_only";
const CLIENTS = 16;
const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-crash-projection-"));
const vars = {
  TESSERA_ADMIN_KEY: ADMIN,
  TESSERA_SECRET: "crash-secret",
  TESSERA_BENCH_D1_DELAY_MS: "200",
};
const TABLES = {
  identities: "id",
  links: "a_id, b_id",
  profiles: "id",
  events: "id",
  graph_history: "id",
  graph_history_profiles: "history_id, profile_id",
};

const query = (store, sql) => queryLocalStore(persistTo, store, sql);

const acked = new Set();
let sent = 0;
let stopLoad = false;
let url;

async function client(n) {
  while (!stopLoad) {
    const i = sent++;
    const id = `crash-${n}-${i}`;
    try {
      const res = await fetch(`${url}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({
          id,
          type: "page.view",
          dataset: "crash-web",
          identities: [
            { namespace: "device", id: `crash-device-${String(i % 500).padStart(6, "0")}` },
            { namespace: "crm", id: `C-${i % 200}` },
          ],
        }),
      });
      if (res.status === 200) acked.add(id);
      else await res.text();
    } catch {
      await new Promise((r) => setTimeout(r, 50)); // the Worker is down: try the next one shortly
    }
  }
}

const report = [];
let worker;
try {
  await applyMigrations({ persistTo });
  worker = await startWorker({ persistTo, vars });
  url = worker.url;
  await fetch(`${url}/v1/datasets/crash-web`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ kind: "events" }),
  });
  const load = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));

  for (const afterMs of [4_000, 6_000]) {
    await new Promise((r) => setTimeout(r, afterMs));
    await worker.kill();
    const applied = query("d1", "SELECT applied_seq AS seq FROM projection_state")[0]?.seq ?? 0;
    const pending = query(
      "writer",
      `SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM _commit_slots WHERE seq > ${applied}`,
    )[0];
    report.push(
      `killed with ${acked.size} events acknowledged; the writer held ${pending.n} commits not yet in D1 (seq ${pending.lo}–${pending.hi}, D1 at ${applied})`,
    );
    worker = await startWorker({ persistTo, vars });
    url = worker.url;
  }
  await new Promise((r) => setTimeout(r, 3_000));
  stopLoad = true;
  await load;

  const started = Date.now();
  await waitUntil(
    async () => {
      const res = await fetch(`${url}/v1/profiles/by-identity/crm/C-1`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      await res.text();
      const applied = query("d1", "SELECT applied_seq AS seq FROM projection_state")[0]?.seq ?? 0;
      return query("writer", `SELECT count(*) AS n FROM _commit_slots WHERE seq > ${applied}`)[0].n;
    },
    (pending) => pending === 0,
    { timeoutMs: 120_000, everyMs: 250 },
  );
  report.push(
    `the projection caught up ${((Date.now() - started) / 1000).toFixed(1)} s after the load stopped`,
  );
  await worker.stop();
  worker = undefined;

  const stored = new Set(
    query("d1", "SELECT id FROM events WHERE dataset = 'crash-web'").map((r) => r.id),
  );
  const missing = [...acked].filter((id) => !stored.has(id));
  report.push(
    `${acked.size} events acknowledged, ${stored.size} in D1 (${stored.size - acked.size + missing.length} committed but unanswered when the Worker died), ${missing.length} acknowledged ones missing`,
  );
  const differing = Object.entries(TABLES).filter(
    ([table, order]) =>
      JSON.stringify(query("writer", `SELECT * FROM ${table} ORDER BY ${order}`)) !==
      JSON.stringify(query("d1", `SELECT * FROM ${table} ORDER BY ${order}`)),
  );
  report.push(
    differing.length === 0
      ? `D1's ${Object.keys(TABLES).join(", ")} equal the writer's, row for row`
      : `tables that differ: ${differing.map(([t]) => t).join(", ")}`,
  );
  const ok = missing.length === 0 && differing.length === 0 && acked.size > 0;
  finishScript("crash-projection", report, {
    ok,
    okText: "nothing acknowledged lost, the projection equals the truth",
  });
} catch (err) {
  finishScript("crash-projection", report, { ok: false, error: err });
} finally {
  stopLoad = true;
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

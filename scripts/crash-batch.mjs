// `npm run crash-batch`: kills the local Worker in the middle of a batch file, twice, and
// checks that the batch still completes with exact counts once the Worker is back.
//
//  1. starts `wrangler dev` on a fresh local database (loopback only);
//  2. uploads a 20,000-row CSV (1 row in 100 is bad, on purpose);
//  3. SIGKILLs workerd when ~3,000 rows are in, starts it again on the same storage;
//  4. SIGKILLs it again at ~10,000 rows, starts it again;
//  5. waits for `completed` and compares rows.{total,ingested,failed} and the stored events
//     (count and distinct ids, read straight from the local D1) with what the file holds.
// After each restart the scheduled handler runs once (as `npm start` does), and the sweep
// resumes any batch without progress for TESSERA_STALE_SECONDS (5 s here).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  applyMigrations,
  emulateCron,
  finishScript,
  queryLocalD1,
  startWorker,
  waitUntil,
} from "./lib/local-worker.mjs";

const ADMIN = "sk_crash_admin_key_local_only";
const ROWS = 20_000;
const BAD_EVERY = 100;
const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-crash-"));
const vars = {
  TESSERA_ADMIN_KEY: ADMIN,
  TESSERA_SECRET: "crash-secret",
  TESSERA_STALE_SECONDS: "5",
};

async function api(url, method, pathname, body, headers = {}) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function start() {
  const worker = await startWorker({ persistTo, vars });
  emulateCron(worker.url, 5);
  return worker;
}

function waitFor(url, batchId, done) {
  return waitUntil(async () => (await api(url, "GET", `/v1/batches/${batchId}`)).json, done, {
    failed: (b) => (b.status === "failed" ? `batch failed: ${b.error}` : undefined),
  });
}

const report = [];
let worker;
try {
  await applyMigrations({ persistTo });
  worker = await start();
  await api(worker.url, "PUT", "/v1/datasets/crash", JSON.stringify({ kind: "events" }), {
    "content-type": "application/json",
  });

  const lines = ["identity.crm,identity.email,type,amount"];
  for (let i = 0; i < ROWS; i++) {
    lines.push(
      i % BAD_EVERY === 42
        ? `C-${i},not-an-email,purchase,${i}`
        : `C-${i % 5000},c${i % 5000}@example.com,purchase,${i}`,
    );
  }
  const csv = lines.join("\n") + "\n";
  const upload = await api(worker.url, "POST", "/v1/batches?dataset=crash&format=csv", csv, {
    "content-type": "text/csv",
  });
  if (upload.status !== 202)
    throw new Error(`upload: ${upload.status} ${JSON.stringify(upload.json)}`);
  const { batchId } = upload.json;

  for (const at of [3_000, 10_000]) {
    const seen = await waitFor(worker.url, batchId, (b) => b.rows.total >= at);
    await worker.kill();
    report.push(`killed at ${seen.rows.total} rows recorded (status ${seen.status})`);
    worker = await start();
  }

  const started = Date.now();
  const done = await waitFor(worker.url, batchId, (b) => b.status === "completed");
  report.push(
    `completed ${((Date.now() - started) / 1000).toFixed(1)} s after the last restart: ${JSON.stringify(done.rows)}`,
  );
  await worker.stop();
  worker = undefined;

  const stored = queryLocalD1(
    persistTo,
    "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events WHERE dataset = 'crash'",
  );
  const bad = Math.ceil((ROWS - 42) / BAD_EVERY);
  const expected = { total: ROWS, ingested: ROWS - bad, failed: bad };
  report.push(
    `events stored: ${stored.n} (distinct ids ${stored.d}); expected rows ${JSON.stringify(expected)}`,
  );
  const ok =
    done.rows.total === expected.total &&
    done.rows.ingested === expected.ingested &&
    done.rows.failed === expected.failed &&
    stored.n === expected.ingested &&
    stored.d === expected.ingested;
  finishScript("crash-batch", report, {
    ok,
    okText: "exact counts after two crashes",
    failText: "counts differ",
  });
} catch (err) {
  finishScript("crash-batch", report, { ok: false, error: err });
} finally {
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
}

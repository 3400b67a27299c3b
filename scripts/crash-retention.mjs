// `npm run crash-retention`: kills the local Worker twice in the middle of a retention run
// that archives expired events, and checks that the run still completes with exact counts
// and that the archive holds every expired event exactly once.
//
//  1. starts `wrangler dev` on a fresh local database (loopback only);
//  2. stores 8,000 events 40 days old in a dataset with ttlDays 30 (and 100 recent ones),
//     with an R2 archive destination;
//  3. starts a retention run; SIGKILLs workerd once ~2,000 events are expired and again at
//     ~5,000, starting it again on the same storage each time (the cron sweep resumes the
//     run after TESSERA_STALE_SECONDS, 5 s here);
//  4. waits for `completed`, then reads the archive's Parquet parts straight from the local
//     R2 with DuckDB: 8,000 rows, 8,000 distinct event ids, and none of the recent ones.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  applyMigrations,
  emulateCron,
  finishScript,
  OFFLINE_ENV,
  queryLocalD1,
  ROOT,
  startWorker,
  waitUntil,
} from "./lib/local-worker.mjs";

const ADMIN = "sk_crash_retention_admin_key_local_only";
const EXPIRED = 8_000;
const DAY = 86_400_000;
const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-crash-retention-"));
const files = mkdtempSync(path.join(tmpdir(), "tessera-crash-retention-files-"));
const vars = {
  TESSERA_ADMIN_KEY: ADMIN,
  TESSERA_SECRET: "crash-secret",
  TESSERA_STALE_SECONDS: "5",
};

async function api(url, method, pathname, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300)
    throw new Error(`${method} ${pathname}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function start() {
  const worker = await startWorker({ persistTo, vars });
  emulateCron(worker.url, 5);
  return worker;
}

function runOf(url, runId, done) {
  const read = async () =>
    (await api(url, "GET", "/v1/maintenance/runs")).items.find((r) => r.runId === runId);
  return waitUntil(read, (run) => run !== undefined && done(run), {
    everyMs: 50,
    failed: (run) => (run?.status === "failed" ? `run failed: ${run.error}` : undefined),
  });
}

const report = [];
let worker;
try {
  await applyMigrations({ persistTo });
  worker = await start();
  await api(worker.url, "PUT", "/v1/datasets/crash-web", { kind: "events", ttlDays: 30 });
  await api(worker.url, "PUT", "/v1/destinations/crash-archive", {
    type: "r2",
    prefix: "crash-archive/",
    schedule: "manual",
  });
  await api(worker.url, "PUT", "/v1/settings/retention", { archiveDestination: "crash-archive" });
  const old = Date.now() - 40 * DAY;
  for (let c = 0; c < EXPIRED / 1000; c++) {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      id: `cr-${c}-${i}`,
      type: "visit",
      dataset: "crash-web",
      timestamp: new Date(old - (c * 1000 + i) * 1000).toISOString(),
      identities: [{ namespace: "crm", id: `CR-${i % 400}` }],
    }));
    await api(worker.url, "POST", "/v1/events", { events });
  }
  await api(worker.url, "POST", "/v1/events", {
    events: Array.from({ length: 100 }, (_, i) => ({
      id: `cr-recent-${i}`,
      type: "visit",
      dataset: "crash-web",
      identities: [{ namespace: "crm", id: `CR-${i}` }],
    })),
  });
  const { runId } = await api(worker.url, "POST", "/v1/maintenance/runs");

  for (const at of [2_000, 5_000]) {
    const seen = await runOf(worker.url, runId, (r) => r.eventsExpired >= at);
    await worker.kill();
    report.push(
      `killed with ${seen.eventsExpired} events expired and ${seen.eventsArchived} archived (status ${seen.status})`,
    );
    worker = await start();
  }
  const started = Date.now();
  const done = await runOf(worker.url, runId, (r) => r.status === "completed");
  report.push(
    `completed ${((Date.now() - started) / 1000).toFixed(1)} s after the last restart: ${done.eventsExpired} expired, ${done.eventsArchived} archived, ${done.parts.length} parts`,
  );
  await worker.stop();
  worker = undefined;

  // The archive, read back from the local R2 with DuckDB.
  const local = [];
  for (const [i, part] of done.parts.entries()) {
    const file = path.join(files, `part-${i}.parquet`);
    execFileSync(
      path.join(ROOT, "node_modules/.bin/wrangler"),
      [
        "r2",
        "object",
        "get",
        `tessera-files/${part.path}`,
        "--local",
        "--persist-to",
        persistTo,
        "--file",
        file,
      ],
      { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, stdio: "ignore" },
    );
    local.push(file);
  }
  const duck = await DuckDBInstance.create(":memory:");
  const connection = await duck.connect();
  const list = local.map((f) => `'${f}'`).join(", ");
  const counted = (
    await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT eventId)::INTEGER AS d, count(*) FILTER (WHERE eventId LIKE 'cr-recent-%')::INTEGER AS recent FROM read_parquet([${list}])`,
    )
  ).getRowObjects()[0];
  const left = queryLocalD1(
    persistTo,
    "SELECT count(*) AS n FROM events WHERE dataset = 'crash-web'",
  );
  report.push(
    `archive: ${counted.n} rows, ${counted.d} distinct event ids, ${counted.recent} recent; D1 keeps ${left.n} events of the dataset`,
  );
  const ok =
    done.eventsExpired === EXPIRED &&
    done.eventsArchived === EXPIRED &&
    counted.n === EXPIRED &&
    counted.d === EXPIRED &&
    counted.recent === 0 &&
    left.n === 100;
  finishScript("crash-retention", report, {
    ok,
    okText: "exact counts and every expired event archived once after two crashes",
    failText: "counts differ",
  });
} catch (err) {
  finishScript("crash-retention", report, { ok: false, error: err });
} finally {
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
}

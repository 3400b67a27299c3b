// `npm run soak -- --minutes 30 [--clients 16] [--batch-every 20]`: a long run against the
// local Worker (loopback only, bounded in time) that prints, per minute, the calls and
// events answered, single-event p50/p99, and the resident memory of the workerd processes;
// at the end it stops, counts what D1 holds and checks stored = acknowledged, no errors.
//
// Load: `clients` loops, each sending single page-view events (a new profile every 50
// calls), with every `batch-every`-th call a 100-event call; all events get unique ids.
// D1 size is printed with the memory so growth of the database can be told from a leak.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { percentile } from "../bench/load.mjs";
import { applyMigrations, queryLocalD1, startWorker } from "./lib/local-worker.mjs";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    clients: { type: "string", default: "16" },
    "batch-every": { type: "string", default: "20" },
  },
});
const MINUTES = Number(values.minutes);
const CLIENTS = Number(values.clients);
const BATCH_EVERY = Number(values["batch-every"]);
const ADMIN = "sk_soak_admin_key_local_only";
const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-soak-"));

/** Resident memory (MB) of every workerd process under the wrangler process group. */
function workerdRssMb(pgid) {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[2]) !== pgid || !comm.startsWith("workerd")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) total += Number(rss[1]) / 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return Math.round(total);
}

/** Bytes of the local D1 files (database and WAL). */
function d1Mb() {
  let bytes = 0;
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (p.includes(`${path.sep}d1${path.sep}`)) bytes += s.size;
    }
  };
  walk(persistTo);
  return Math.round(bytes / 1024 / 1024);
}

async function main() {
  await applyMigrations({ persistTo });
  const worker = await startWorker({
    persistTo,
    vars: { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "soak-secret" },
  });
  const pgid = worker.child.pid;
  const post = async (body) => {
    const res = await fetch(`${worker.url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: res.status === 200 ? JSON.parse(text) : text };
  };

  const totals = { calls: 0, acknowledged: 0, duplicates: 0, rejected: 0, errors: 0 };
  const errorSamples = [];
  let minute = { calls: 0, events: 0, singles: [] };
  const rows = [];
  const deadline = Date.now() + MINUTES * 60_000;
  let seq = 0;
  const client = async (c) => {
    for (let n = 0; Date.now() < deadline; n++) {
      const batch = BATCH_EVERY > 0 && n % BATCH_EVERY === BATCH_EVERY - 1;
      const count = batch ? 100 : 1;
      const events = Array.from({ length: count }, () => {
        const i = seq++;
        return {
          id: `soak-${i}`,
          type: "soak.view",
          identities: [{ namespace: "crm", id: `SOAK-${c}-${Math.floor(n / 50)}` }],
          data: { i },
        };
      });
      const t0 = performance.now();
      let res;
      try {
        res = await post(batch ? { events } : events[0]);
      } catch (err) {
        res = { status: 0, json: String(err) };
      }
      const ms = performance.now() - t0;
      totals.calls++;
      minute.calls++;
      if (res.status === 200) {
        totals.acknowledged += res.json.accepted;
        totals.duplicates += res.json.duplicates;
        totals.rejected += res.json.rejected.length;
        minute.events += res.json.accepted;
        if (!batch) minute.singles.push(ms);
      } else {
        totals.errors++;
        if (errorSamples.length < 5)
          errorSamples.push(`${res.status} ${String(res.json).slice(0, 200)}`);
      }
    }
  };
  const started = Date.now();
  const ticker = setInterval(() => {
    const s = minute.singles.sort((a, b) => a - b);
    const row = {
      minute: rows.length + 1,
      callsPerSecond: Math.round(minute.calls / 60),
      eventsPerSecond: Math.round(minute.events / 60),
      p50: Number((percentile(s, 50) ?? 0).toFixed(1)),
      p99: Number((percentile(s, 99) ?? 0).toFixed(1)),
      workerdMb: workerdRssMb(pgid),
      d1Mb: d1Mb(),
    };
    rows.push(row);
    console.log(
      `soak: min ${String(row.minute).padStart(3)}  ${row.callsPerSecond} calls/s  ${row.eventsPerSecond} events/s  p50 ${row.p50} ms  p99 ${row.p99} ms  workerd ${row.workerdMb} MB  D1 ${row.d1Mb} MB`,
    );
    minute = { calls: 0, events: 0, singles: [] };
  }, 60_000);
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  clearInterval(ticker);
  const seconds = (Date.now() - started) / 1000;
  await worker.stop();

  const stored = queryLocalD1(
    persistTo,
    "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events WHERE type = 'soak.view'",
  );
  console.log(
    `soak: ${totals.calls} calls in ${seconds.toFixed(0)} s; acknowledged ${totals.acknowledged} events, duplicates ${totals.duplicates}, rejected ${totals.rejected}, errors ${totals.errors}`,
  );
  for (const e of errorSamples) console.log(`soak: error sample: ${e}`);
  console.log(`soak: stored ${stored.n} events (${stored.d} distinct ids)`);
  const warm = rows.slice(Math.min(2, rows.length - 1));
  if (warm.length > 1) {
    const [first, last] = [warm[0], warm.at(-1)];
    console.log(
      `soak: after warm-up, minute ${first.minute} → ${last.minute}: p99 ${first.p99} → ${last.p99} ms, events/s ${first.eventsPerSecond} → ${last.eventsPerSecond}, workerd ${first.workerdMb} → ${last.workerdMb} MB, D1 ${first.d1Mb} → ${last.d1Mb} MB`,
    );
  }
  const ok =
    totals.errors === 0 &&
    totals.rejected === 0 &&
    stored.n === totals.acknowledged &&
    stored.d === totals.acknowledged;
  console.log(
    ok ? "soak: OK — stored = acknowledged, no errors" : "soak: FAILED — see the counts above",
  );
  process.exitCode = ok ? 0 : 1;
}

try {
  await main();
} finally {
  rmSync(persistTo, { recursive: true, force: true });
}

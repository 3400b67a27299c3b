// `npm run upgrade-check [-- --from REF] [-- --people N]`: upgrades a deployment in place,
// from the version before the writer kept the graph in its own SQLite, and checks that
// nothing was lost or changed.
//
//  1. checks out REF (default 2c58e22, the last version whose writer kept the graph in D1)
//     into a temporary worktree, starts it on a fresh local database and seeds it through
//     its API: the demo data set (N customers), a split (DELETE /v1/links) and an erase;
//  2. reads a sample of answers from it: lookups with segments, identity graphs, segment
//     sizes, the table counts;
//  3. stops it, applies this version's migrations to the same storage, starts this version,
//     and — while the graph moves into the writer's SQLite — keeps writing and reading;
//  4. waits until GET /v1/admin/shards says `local`, reads the same answers again, and
//     compares them, and then compares D1's graph tables with the writer's row for row.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as current from "./lib/local-worker.mjs";

const { values } = parseArgs({
  options: {
    from: { type: "string", default: "2c58e22" },
    people: { type: "string", default: "1000" },
  },
});
const ADMIN = "sk_upgrade_admin_key_local_only";
const vars = { TESSERA_ADMIN_KEY: ADMIN, TESSERA_SECRET: "upgrade-secret" };
const TABLES = {
  identities: "id",
  links: "a_id, b_id",
  profiles: "id",
  fragments: "identity_id, dataset",
  events: "id",
  memberships: "segment_id, profile_id",
  graph_history: "id",
  graph_history_profiles: "profile_id, history_id",
  suppressions: "hash",
  attribute_index: "path, value, identity_id, dataset",
  profile_terms: "term, profile_id",
};

const work = mkdtempSync(path.join(tmpdir(), "tessera-upgrade-"));
const oldTree = path.join(work, "old");
const persistTo = path.join(work, "state");
const report = [];
let worker;

async function api(url, method, pathname, body) {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** What a user sees of the sample: lookups with segments, graphs, segment sizes. */
async function answers(url, ids) {
  const out = {};
  for (const id of ids) {
    out[`lookup ${id}`] = (
      await api(url, "GET", `/v1/profiles/by-identity/crm/${id}?include=segments`)
    ).json;
    out[`graph ${id}`] = (await api(url, "GET", `/v1/identities/crm/${id}/graph`)).json;
  }
  for (const segment of ["gold-members", "frequent-buyers"]) {
    const { json } = await api(url, "GET", `/v1/segments/${segment}`);
    out[`segment ${segment}`] = { size: json.size, status: json.status };
  }
  return out;
}

const rows = (store, sql) => current.queryLocalStore(persistTo, store, sql);

try {
  execFileSync("git", ["worktree", "add", "--detach", oldTree, values.from], {
    cwd: current.ROOT,
    stdio: "ignore",
  });
  symlinkSync(path.join(current.ROOT, "node_modules"), path.join(oldTree, "node_modules"));
  const previous = await import(path.join(oldTree, "scripts/lib/local-worker.mjs"));
  const { seedDemoData } = await import(path.join(oldTree, "scripts/seed.mjs"));

  // 1–2. The previous version, seeded through its own API.
  await previous.applyMigrations({ persistTo });
  worker = await previous.startWorker({ persistTo, vars });
  await seedDemoData({
    url: worker.url,
    adminKey: ADMIN,
    people: Number(values.people),
    log: () => undefined,
  });
  const sample = Array.from({ length: 40 }, (_, i) => `CUST-${10000 + i * 7}`);
  const graph = (await api(worker.url, "GET", `/v1/identities/crm/${sample[3]}/graph`)).json;
  const email = graph.identities.find((i) => i.namespace === "email");
  if (email)
    await api(
      worker.url,
      "DELETE",
      `/v1/links?from=crm:${sample[3]}&to=email:${encodeURIComponent(email.id)}`,
    );
  await api(worker.url, "DELETE", `/v1/profiles/by-identity/crm/${sample[5]}`);
  const before = await answers(worker.url, sample);
  const countsBefore = Object.fromEntries(
    Object.keys(TABLES).map((t) => [t, rows("d1", `SELECT count(*) AS n FROM ${t}`)[0].n]),
  );
  report.push(
    `previous version (${values.from}): ${countsBefore.profiles} profiles, ${countsBefore.identities} identities, ${countsBefore.events} events in D1`,
  );
  await worker.stop();

  // 3. This version on the same storage: it moves the graph while serving.
  await current.applyMigrations({ persistTo });
  const started = Date.now();
  worker = await current.startWorker({ persistTo, vars });
  let shard = (await api(worker.url, "GET", "/v1/admin/shards")).json.shards[0];
  report.push(
    `this version started: store ${shard.store}${shard.move ? ` (${shard.move.phase})` : ""}`,
  );
  // A previous version whose writer already kept the graph locally has nothing to move.
  const moves = shard.store !== "local";
  let writesWhileMoving = 0;
  for (let i = 0; shard.store !== "local"; i++) {
    if (Date.now() - started > 300_000)
      throw new Error(`the move did not finish in 5 minutes: ${JSON.stringify(shard)}`);
    const write = await api(worker.url, "POST", "/v1/events", {
      events: [
        {
          type: "page.view",
          dataset: "orders",
          identities: [{ namespace: "device", id: `upgrade-device-${String(i).padStart(8, "0")}` }],
        },
      ],
    });
    if (write.status !== 200 || write.json.accepted !== 1)
      throw new Error(
        `a write during the move failed: ${write.status} ${JSON.stringify(write.json)}`,
      );
    if (
      (
        await api(
          worker.url,
          "GET",
          `/v1/profiles/by-identity/device/upgrade-device-${String(i).padStart(8, "0")}`,
        )
      ).status !== 200
    )
      throw new Error("a write during the move was not readable");
    writesWhileMoving++;
    shard = (await api(worker.url, "GET", "/v1/admin/shards")).json.shards[0];
  }
  report.push(
    `moved in ${((Date.now() - started) / 1000).toFixed(1)} s, serving ${writesWhileMoving} writes (each read back) meanwhile`,
  );

  // 4. The same answers, and D1 equal to the writer's tables.
  const after = await answers(worker.url, sample);
  // Error answers (the erased person's) carry their own request id: compare without it.
  const stable = (v) =>
    JSON.stringify(v, (key, value) => (key === "requestId" ? undefined : value));
  // Fields this version adds (the lookup's `consent`, say) are not changes: compare what the
  // previous version answered.
  const asBefore = (now, then) =>
    now && then && typeof now === "object" && typeof then === "object" && !Array.isArray(now)
      ? Object.fromEntries(
          Object.keys(now)
            .filter((k) => k in then)
            .map((k) => [k, asBefore(now[k], then[k])]),
        )
      : Array.isArray(now) && Array.isArray(then)
        ? now.map((v, i) => asBefore(v, then[i]))
        : now;
  const changed = Object.keys(before).filter(
    (k) => stable(before[k]) !== stable(asBefore(after[k], before[k])),
  );
  report.push(
    changed.length === 0
      ? `${Object.keys(before).length} sampled answers identical before and after`
      : `answers that changed: ${changed.join(", ")}`,
  );
  await worker.stop();
  worker = undefined;
  const differing = Object.entries(TABLES).filter(
    ([t, order]) =>
      JSON.stringify(rows("writer", `SELECT * FROM ${t} ORDER BY ${order}`)) !==
      JSON.stringify(rows("d1", `SELECT * FROM ${t} ORDER BY ${order}`)),
  );
  const countsAfter = Object.fromEntries(
    Object.keys(TABLES).map((t) => [t, rows("writer", `SELECT count(*) AS n FROM ${t}`)[0].n]),
  );
  report.push(
    differing.length === 0
      ? `the writer's ${Object.keys(TABLES).length} graph tables equal D1's row for row (${countsAfter.identities} identities, ${countsAfter.events} events)`
      : `tables that differ: ${differing.map(([t]) => t).join(", ")}`,
  );
  // At least one write must have been served while the graph moved, or that part was not checked.
  const ok = changed.length === 0 && differing.length === 0 && (!moves || writesWhileMoving > 0);
  current.finishScript("upgrade-check", report, { ok, okText: "nothing lost or changed" });
} catch (err) {
  current.finishScript("upgrade-check", report, { ok: false, error: err });
} finally {
  await worker?.stop();
  try {
    execFileSync("git", ["worktree", "remove", "--force", oldTree], {
      cwd: current.ROOT,
      stdio: "ignore",
    });
  } catch {
    // already gone
  }
  rmSync(work, { recursive: true, force: true });
}

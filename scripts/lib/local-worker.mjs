// Starts Tessera's Worker locally with wrangler (workerd + local D1/R2/Queues), offline.
// Used by `npm start`, the e2e/browser tests and the benchmark, so all three run the
// Worker exactly the same way.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const WRANGLER = path.join(ROOT, "node_modules/.bin/wrangler");

/** No telemetry, no Request.cf lookups, no update checks: local dev never calls Cloudflare. */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG: "warn",
  NO_UPDATE_NOTIFIER: "1",
};

function run(args, { quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER, args, {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE_ENV },
      stdio: quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`wrangler ${args.join(" ")} exited ${code}\n${output}`)),
    );
  });
}

/**
 * Applies the D1 migrations in `migrations/` to the local database.
 * @param {{ persistTo?: string, quiet?: boolean }} [options]
 */
export async function applyMigrations({ persistTo, quiet = true } = {}) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  return run(args, { quiet });
}

/**
 * One row of a SQL query against the local D1 (the Worker stopped or not), e.g. to count
 * what was stored after a crash or a soak.
 * @param {string} persistTo
 * @param {string} sql
 */
export function queryLocalD1(persistTo, sql) {
  return queryLocalStore(persistTo, "d1", sql)[0];
}

/**
 * Rows of a query against the local D1's SQLite file (`"d1"`) or the GraphWriter object's
 * (`"writer"`), read-only, straight from the files (node:sqlite), the Worker stopped or not.
 * @param {string} persistTo
 * @param {"d1" | "writer"} store
 * @param {string} sql
 */
export function queryLocalStore(persistTo, store, sql) {
  // Loaded on first use: node:sqlite is still experimental and warns when loaded.
  const { DatabaseSync } = createRequire(import.meta.url)("node:sqlite");
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (
        entry.name.endsWith(".sqlite") &&
        entry.name !== "metadata.sqlite" &&
        (store === "d1" || full.includes("GraphWriter"))
      )
        files.push(full);
    }
  };
  walk(path.join(persistTo, "v3", store === "d1" ? "d1" : "do"));
  if (files.length !== 1)
    throw new Error(`expected one ${store} database under ${persistTo}, found ${files.length}`);
  const db = new DatabaseSync(files[0], { readOnly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

/**
 * How a check script ends: its report lines, then OK or FAILED, as the exit code.
 * @param {string} name
 * @param {string[]} report
 * @param {{ ok: boolean, okText?: string, failText?: string, error?: Error }} outcome
 */
export function finishScript(name, report, { ok, okText = "", failText = "", error }) {
  console.log(report.map((l) => `${name}: ${l}`).join("\n"));
  if (error) console.error(`${name}: FAILED — ${error.stack ?? error.message}`);
  else
    console.log(
      ok
        ? `${name}: OK${okText ? ` — ${okText}` : ""}`
        : `${name}: FAILED${failText ? ` — ${failText}` : ""}`,
    );
  process.exitCode = ok && !error ? 0 : 1;
}

/**
 * Polls `read()` until `done(value)`; throws when `failed(value)` names a failure or the
 * time runs out. For the crash scripts, which wait on a batch or a run.
 * @template T
 * @param {() => Promise<T>} read
 * @param {(value: T) => boolean} done
 * @param {{ failed?: (value: T) => string | undefined, timeoutMs?: number, everyMs?: number }} [options]
 * @returns {Promise<T>}
 */
export async function waitUntil(
  read,
  done,
  { failed = () => undefined, timeoutMs = 300_000, everyMs = 100 } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    const failure = failed(value);
    if (failure) throw new Error(failure);
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function freePort() {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/** The Worker's Cron Trigger expression (wrangler.toml). */
const CRON = "*/5 * * * *";

/**
 * Cron Triggers never fire by themselves in `wrangler dev`: this runs the scheduled
 * handler through `--test-scheduled`'s `/__scheduled` route, once now (the "start-up"
 * sweep that resumes work a crash left behind) and then every `everySeconds`.
 */
export function emulateCron(url, everySeconds = 60) {
  const fire = () =>
    fetch(`${url}/__scheduled?cron=${encodeURIComponent(CRON)}`)
      .then((r) => r.text())
      .catch(() => undefined);
  fire();
  const timer = setInterval(fire, everySeconds * 1000);
  timer.unref();
  return { fire, stop: () => clearInterval(timer) };
}

/**
 * Starts `wrangler dev` and resolves once `/health` answers. `vars` are passed with
 * `--var` (secrets for tests); otherwise `.dev.vars` is read as usual.
 * @param {{ port?: number, persistTo?: string, vars?: Record<string, string>, inheritOutput?: boolean, extraArgs?: string[] }} [options]
 */
export async function startWorker({
  port,
  persistTo,
  vars = {},
  inheritOutput = false,
  extraArgs = [],
} = {}) {
  port ??= await freePort();
  const args = [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--log-level",
    inheritOutput ? "info" : "warn",
    "--test-scheduled",
  ];
  if (persistTo) args.push("--persist-to", persistTo);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  args.push(...extraArgs);
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE_ENV },
    stdio: ["ignore", inheritOutput ? "inherit" : "pipe", inheritOutput ? "inherit" : "pipe"],
    detached: process.platform !== "win32",
  });
  let log = "";
  child.stdout?.on("data", (d) => (log = (log + d).slice(-20_000)));
  child.stderr?.on("data", (d) => (log = (log + d).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 90_000;
  while (true) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited early (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stopProcess(child);
      throw new Error(`wrangler dev did not become healthy within 90 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    child,
    log: () => log,
    stop: () => stopProcess(child),
    kill: () => stopProcess(child, "SIGKILL"),
  };
}

function stopProcess(child, signal = "SIGTERM") {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = once(child, "exit");
  try {
    // wrangler starts workerd as a child: end the whole process group.
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
  return exited;
}

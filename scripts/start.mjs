// `npm start`: Tessera on localhost with no accounts and no network.
//  1. writes .dev.vars with a generated admin key on the first run (printed once),
//  2. builds the widget bundle,
//  3. applies the D1 migrations to the local database,
//  4. serves the Worker (API, /docs, demo site, console) on http://localhost:8787,
//  5. seeds the demo data set once.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { applyMigrations, emulateCron, ROOT, startWorker } from "./lib/local-worker.mjs";
import { seedDemoData } from "./seed.mjs";

const PORT = Number(process.env.PORT ?? 8787);
const started = Date.now();
const devVars = path.join(ROOT, ".dev.vars");

function readDevVars() {
  if (!existsSync(devVars)) return {};
  return Object.fromEntries(
    readFileSync(devVars, "utf8")
      .split("\n")
      .map((l) => l.match(/^([A-Z0-9_]+)\s*=\s*"?([^"]*)"?\s*$/))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
}

let vars = readDevVars();
if (!vars.TESSERA_ADMIN_KEY) {
  const adminKey = `sk_admin_${randomBytes(24).toString("base64url")}`;
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(
    devVars,
    `# Local secrets for wrangler dev (never commit). Production: \`wrangler secret put\`.\n` +
      `TESSERA_ADMIN_KEY="${adminKey}"\nTESSERA_SECRET="${secret}"\n`,
    { mode: 0o600 },
  );
  vars = readDevVars();
  console.log("\n  Your local admin key (also in .dev.vars; shown once):\n");
  console.log(`    ${adminKey}\n`);
}

console.log("tessera: building the widget");
execFileSync(process.execPath, [path.join(ROOT, "widget/build.mjs")], { stdio: "inherit" });

console.log("tessera: applying D1 migrations to the local database");
await applyMigrations({ quiet: true });

console.log(`tessera: starting the Worker on http://localhost:${PORT}`);
const worker = await startWorker({
  port: PORT,
  inheritOutput: false,
  vars: {
    TESSERA_DEMO: "true",
    TESSERA_WEBHOOK_ALLOW_INSECURE: "true",
    // Owner shards of a new local deployment (one that has stored nothing yet).
    ...(process.env.TESSERA_SHARDS ? { TESSERA_SHARDS: process.env.TESSERA_SHARDS } : {}),
  },
});
if (process.env.TESSERA_SHARDS)
  console.log(
    `tessera: TESSERA_SHARDS=${process.env.TESSERA_SHARDS} applies to a new deployment; one that stored data before keeps its shard count (GET /v1/admin/shards shows it; remove .wrangler/state to start over)`,
  );
// Schedules (exports, segment rechecks) and the sweep that resumes work a crash left behind.
emulateCron(worker.url, 60);
const stop = async () => {
  await worker.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

await seedDemoData({ url: worker.url, adminKey: vars.TESSERA_ADMIN_KEY });

console.log(`
  Tessera is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)

    API         http://localhost:${PORT}/v1      (Authorization: Bearer <admin key from .dev.vars>)
    Health      http://localhost:${PORT}/health
    Reference   http://localhost:${PORT}/docs    (OpenAPI: /v1/openapi.json)
    Demo site   http://localhost:${PORT}/
    Widget      http://localhost:${PORT}/widget.js
    Console     http://localhost:${PORT}/console

  Press Ctrl+C to stop.
`);
worker.child.stdout?.pipe(process.stdout);
worker.child.stderr?.pipe(process.stderr);
await new Promise(() => {});

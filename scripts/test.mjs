// `npm test`: generated types current, format and lint, dead exports, typecheck, then every Vitest project (workerd tests and the Chromium tests),
// ending with one plain summary line: "tests: N passed, N failed".
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { OFFLINE_ENV, ROOT } from "./lib/local-worker.mjs";

const env = { ...process.env, ...OFFLINE_ENV };
const bin = (name) => path.join(ROOT, "node_modules/.bin", name);

// The runtime types wrangler generates from wrangler.toml are committed: regenerate them next
// to the committed file (so relative imports match) and fail on any difference.
console.log("generated types: wrangler types (fresh?)");
const committed = path.join(ROOT, "worker/worker-configuration.d.ts");
const fresh = path.join(ROOT, "worker/.worker-configuration.check.d.ts");
const types = spawnSync(
  bin("wrangler"),
  ["types", fresh, "--env-file", "/dev/null", "--strict-vars=false"],
  { cwd: ROOT, stdio: "ignore", env },
);
// Line 2 names the output path and its hash; everything after it must be identical.
const body = (file) => readFileSync(file, "utf8").split("\n").slice(2).join("\n");
const stale = types.status !== 0 || body(fresh) !== body(committed);
rmSync(fresh, { force: true });
if (stale) {
  console.log("worker/worker-configuration.d.ts is stale: run `npm run types` and commit it");
  console.log("tests: 0 passed, 1 failed (generated types)");
  process.exit(1);
}

// Formatting (line width 100), organized imports and no unused variables or imports: biome.json.
console.log("format and lint: biome ci");
const biome = spawnSync(bin("biome"), ["ci", "."], { cwd: ROOT, stdio: "inherit", env });
if (biome.status !== 0) {
  console.log("run `npm run format` to format and organize imports, then fix what it reports");
  console.log("tests: 0 passed, 1 failed (format and lint)");
  process.exit(1);
}

// Dead code: exports nothing imports, files nothing reaches, dependencies nothing uses (knip.json).
console.log("dead exports: knip");
const knip = spawnSync(bin("knip"), ["--no-progress"], { cwd: ROOT, stdio: "inherit", env });
if (knip.status !== 0) {
  console.log("remove what knip lists (or the `export` keyword of what only its own file uses)");
  console.log("tests: 0 passed, 1 failed (dead exports)");
  process.exit(1);
}

console.log("typecheck: tsc --noEmit");
const tsc = spawnSync(bin("tsc"), ["--noEmit", "-p", "."], { cwd: ROOT, stdio: "inherit", env });
if (tsc.status !== 0) {
  console.log("tests: 0 passed, 1 failed (typecheck)");
  process.exit(1);
}

const reports = mkdtempSync(path.join(tmpdir(), "tessera-test-"));

/** Runs Vitest with `args`; resolves to its exit status and the JSON report's counts. */
function runVitest(name, args, { quiet }) {
  const report = path.join(reports, `${name}.json`);
  const child = spawn(
    bin("vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args],
    { cwd: ROOT, env, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit" },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  return new Promise((resolve) => {
    child.on("close", (status) => {
      let passed = 0;
      let failed = 0;
      try {
        const result = JSON.parse(readFileSync(report, "utf8"));
        passed = result.numPassedTests;
        failed = result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0);
      } catch {
        failed = 1;
      }
      if (status !== 0 && failed === 0) failed = 1;
      resolve({ name, status, passed, failed, output });
    });
  });
}

const extra = process.argv.slice(2);
// With no arguments, two runs side by side: the browser project (one local Worker and one
// Chromium, its files one after another, mostly waiting on them) beside every other
// project, whose workerd files keep both cores busy. Its output is printed when it ends.
const runs = extra.length
  ? [runVitest("selected", extra, { quiet: false })]
  : [
      runVitest(
        "workerd-and-node",
        [
          "--project",
          "unit",
          "--project",
          "components",
          "--project",
          "worker",
          "--project",
          "worker-d1store",
          "--project",
          "worker-shards",
        ],
        { quiet: false },
      ),
      runVitest("browser", ["--project", "browser"], { quiet: true }),
    ];
const results = await Promise.all(runs);
for (const r of results) if (r.output) process.stdout.write(`\n── ${r.name} ──\n${r.output}`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.status === 0) && failed === 0 && passed > 0 ? 0 : 1);

import { availableParallelism } from "node:os";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";

/** The admin key the worker tests authenticate with (a test-only binding). */
export const TEST_ADMIN_KEY = "sk_test_admin_key_for_vitest_only";

/** The files that exercise the writer's store, run in both store modes. */
const D1_STORE_FILES = [
  "test/worker/lane.concurrency.test.ts",
  "test/worker/graph.happy.test.ts",
  "test/worker/graph.concurrency.test.ts",
  "test/worker/graph-deletes.happy.test.ts",
  "test/worker/ingest.happy.test.ts",
  "test/worker/privacy.happy.test.ts",
  "test/worker/segments.happy.test.ts",
  "test/worker/computed.happy.test.ts",
  "test/worker/retention.recovery.test.ts",
  "test/worker/store-mode.happy.test.ts",
];

export default defineConfig(async () => {
  // The real migrations, applied to each test file's isolated D1 by test/setup/apply-migrations.ts.
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));

  const workerProject = (name: string, include: string[], extra: Record<string, string> = {}) => ({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TESSERA_ADMIN_KEY: TEST_ADMIN_KEY,
            TESSERA_SECRET: "test-server-secret",
            // Generated requests in the fuzz suite: `npm run fuzz` raises it.
            FUZZ_RUNS: process.env.FUZZ_RUNS ?? "600",
            FUZZ_SEED: process.env.FUZZ_SEED ?? "1234",
            // Randomized concurrent histories in the write-lane test.
            LANE_RUNS: process.env.LANE_RUNS ?? "8",
            LANE_SEED: process.env.LANE_SEED ?? "42",
            ...extra,
          },
        },
      }),
    ],
    test: {
      name,
      include,
      setupFiles: ["./test/setup/apply-migrations.ts", "./test/setup/matchers.ts"],
      // A time-out is a safety net, not an assertion: files run two at a time beside the
      // browser project, so a test of 50 sequential writes can pass 5 s on a loaded 2-core
      // machine without anything being wrong.
      testTimeout: 30_000,
    },
  });

  return {
    test: {
      // Vitest's default is one file at a time on a 2-core machine (cores − 1). A worker file
      // spends most of its time starting workerd and migrating its D1, so two at once
      // overlap that wait: the worker projects run in 183 s instead of 247 s on 2 cores.
      maxWorkers: Math.max(2, availableParallelism() - 1),
      projects: [
        workerProject("worker", ["test/worker/**/*.test.ts"]),
        // Deployments whose graph is still in D1 (`TESSERA_GRAPH_STORE=d1`): the write path's
        // files again, with D1 as the writer's store.
        workerProject("worker-d1store", D1_STORE_FILES, { TESSERA_GRAPH_STORE: "d1" }),
        // A deployment with four owner shards (`TESSERA_SHARDS=4`): calls that join
        // identities placed on different shards go through the coordinator.
        workerProject("worker-shards", ["test/worker/**/*.test.ts"], { TESSERA_SHARDS: "4" }),
        {
          // Plain logic (graph engine, merge, rules, normalization, parsing): in Node, in seconds.
          test: {
            name: "unit",
            include: ["test/unit/**/*.test.ts"],
            environment: "node",
            // Property and model tests run thousands of cases: seconds, more on a loaded machine.
            testTimeout: 30_000,
            setupFiles: ["./test/setup/matchers.ts"],
          },
        },
        {
          // The widget's elements on their own, in Chromium (Vitest browser mode), with a
          // stubbed fetch: properties, parts, events, errors and accessibility.
          test: {
            name: "components",
            include: ["test/components/**/*.test.ts"],
            browser: {
              enabled: true,
              headless: true,
              // Debian's Chromium, never a downloaded browser (as test/browser/chromium.ts).
              provider: playwright({
                launchOptions: {
                  executablePath: process.env.TESSERA_CHROMIUM ?? "/usr/bin/chromium",
                  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
                },
              }),
              instances: [{ browser: "chromium" as const }],
              // A failing test's screenshot goes with the other test artifacts.
              screenshotDirectory: "test-artifacts/component-failures",
            },
          },
        },
        {
          test: {
            name: "browser",
            include: ["test/browser/**/*.test.ts"],
            environment: "node",
            setupFiles: ["./test/setup/matchers.ts"],
            globalSetup: ["./test/browser/global-setup.ts"],
            testTimeout: 30_000,
            hookTimeout: 120_000,
            // One Chromium and one local Worker: run the files one after another.
            fileParallelism: false,
          },
        },
      ],
    },
  };
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { applyMigrations, startWorker } from "../../scripts/lib/local-worker.mjs";

export const E2E_ADMIN_KEY = "sk_e2e_admin_key_for_tests_only";

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    adminKey: string;
  }
}

/**
 * Builds the widget and starts the real Worker under `wrangler dev` against a fresh local
 * D1 (its own folder, so the developer's `npm start` data is untouched).
 */
export default async function setup(project: TestProject) {
  const { execFileSync } = await import("node:child_process");
  execFileSync(process.execPath, ["widget/build.mjs"], { stdio: "inherit" });
  const persistTo = mkdtempSync(path.join(tmpdir(), "tessera-e2e-"));
  await applyMigrations({ persistTo });
  const worker = await startWorker({
    persistTo,
    // S3_TEST_*: the credentials of the local S3-compatible server the export test starts.
    // Webhooks: receivers in tests listen on 127.0.0.1 (http), and retries run 10,000× faster.
    vars: {
      TESSERA_ADMIN_KEY: E2E_ADMIN_KEY,
      TESSERA_SECRET: "e2e-server-secret",
      TESSERA_DEMO: "true",
      S3_TEST_KEY_ID: "S3RVER",
      S3_TEST_SECRET: "S3RVER",
      TESSERA_WEBHOOK_ALLOW_INSECURE: "true",
      TESSERA_WEBHOOK_BACKOFF_SCALE: "0.0001",
    },
  });
  project.provide("workerUrl", worker.url);
  project.provide("adminKey", E2E_ADMIN_KEY);
  return async () => {
    await worker.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
}

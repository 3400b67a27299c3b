import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { AwsClient } from "aws4fetch";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, ensureSeeded, waitForRun } from "./api";
import { startSigV4Proxy } from "./sigv4-proxy";

/**
 * The s3 destination against a real S3-compatible server (s3rver, on loopback) behind a
 * proxy that verifies every SigV4 signature with AWS's own signer: a wrongly signed
 * request fails the run.
 */
let server: any;
let proxy: Awaited<ReturnType<typeof startSigV4Proxy>>;
let endpoint: string;
const dir = mkdtempSync(path.join(tmpdir(), "tessera-s3rver-"));
const s3 = new AwsClient({
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
  service: "s3",
  region: "us-east-1",
});

beforeAll(async () => {
  await ensureSeeded();
  server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: "exports" }],
  });
  const { port } = await server.run();
  proxy = await startSigV4Proxy(`http://127.0.0.1:${port}`, {
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
  });
  endpoint = proxy.url;
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Object keys as S3 clients send them: each path segment URI-encoded (`=` is `%3D`). */
const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

describe("s3 destination", () => {
  it("signs its requests and writes the same files: parts and a manifest with matching hashes", async () => {
    await api("PUT", "/v1/destinations/s3rver", {
      type: "s3",
      bucket: "exports",
      endpoint,
      region: "us-east-1",
      prefix: "tessera/",
      schedule: "manual",
      credentials: { accessKeyId: "S3_TEST_KEY_ID", secretAccessKey: "S3_TEST_SECRET" },
    });
    const { runId } = await api("POST", "/v1/destinations/s3rver/runs");
    const run = await waitForRun("s3rver", runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe("completed");
    expect(run.profiles).toBeGreaterThan(0);

    const get = async (key: string) => {
      const res = await s3.fetch(`${endpoint}/exports/${encodeKey(key)}`);
      expect(res).toHaveStatus(200);
      return Buffer.from(await res.arrayBuffer());
    };
    expect(run.manifest).toBe(
      `tessera/content=profiles/date=${run.startedAt.slice(0, 10)}/run=${runId}/manifest.json`,
    );
    const manifest = JSON.parse((await get(run.manifest)).toString());
    expect(manifest.profiles).toBe(run.profiles);
    let rows = 0;
    for (const part of manifest.parts) {
      const body = await get(part.path);
      expect(createHash("sha256").update(body).digest("hex")).toBe(part.sha256);
      rows += gunzipSync(body).toString().trim().split("\n").length;
    }
    expect(rows).toBe(manifest.profiles);
    // Every upload was signed correctly (checked by AWS's signer in the proxy).
    expect(proxy.verified.filter((v) => v.startsWith("PUT")).length).toBe(
      manifest.parts.length + 1,
    );
  });

  it("a wrong secret fails the run with the store's answer; ?retry re-runs it into its own files", async () => {
    await api("PUT", "/v1/destinations/s3bad", {
      type: "s3",
      bucket: "exports",
      endpoint,
      schedule: "manual",
      credentials: { accessKeyId: "S3_TEST_KEY_ID", secretAccessKey: "TESSERA_SECRET" },
    });
    const { runId } = await api("POST", "/v1/destinations/s3bad/runs");
    const run = await waitForRun("s3bad", runId);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/HTTP 403/);
    expect(run.error).toMatch(/SignatureDoesNotMatch/);

    // Fixed credentials, then a retry of the failed run into its own folder.
    await api("PUT", "/v1/destinations/s3bad", {
      type: "s3",
      bucket: "exports",
      endpoint,
      schedule: "manual",
      credentials: { accessKeyId: "S3_TEST_KEY_ID", secretAccessKey: "S3_TEST_SECRET" },
    });
    const retried = await api("POST", `/v1/destinations/s3bad/runs?retry=${runId}`);
    expect(retried.runId).toBe(runId);
    const again = await waitForRun("s3bad", runId);
    expect(again.status).toBe("completed");
    expect(await s3.fetch(`${endpoint}/exports/${encodeKey(again.manifest)}`)).toHaveStatus(200);
  }, 120_000);
});

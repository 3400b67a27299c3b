/**
 * The CLI (bin/tessera.mjs) as a user runs it, against the real local Worker: one-line
 * errors, key and dataset checked before any upload, progress from the server, the errors
 * file, and the lookup / keys / export commands.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { unwrap } from "../../client/index.js";
import { adminKey, tessera, workerUrl } from "./api";

const CLI = path.resolve("bin/tessera.mjs");
const dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-"));

/** Runs the CLI in an empty folder (no .dev.vars), as a user would. */
function cli(
  args: string[],
  key: string | null = adminKey,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const all = [...args, "--endpoint", workerUrl, ...(key ? ["--key", key] : [])];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...all],
      { cwd: dir, env: { ...process.env, TESSERA_KEY: "", TESSERA_ENDPOINT: "" } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function batchCount() {
  return (await unwrap(tessera.v1.batches.$get({ query: { limit: "200" } }))).items.length;
}

describe("tessera CLI", () => {
  beforeAll(async () => {
    await unwrap(
      tessera.v1.datasets[":name"].$put({ param: { name: "cli-crm" }, json: { kind: "records" } }),
    );
  });

  it("an unknown flag is one line, not a stack trace", async () => {
    const out = await cli(["import", "x.csv", "--datset", "crm"]);
    expect(out.code).toBe(1);
    expect(out.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^tessera: Unknown option '--datset'.*\(see tessera --help\)$/),
    ]);
  });

  it("a bad key and a missing dataset are reported before anything is uploaded", async () => {
    copyFileSync("examples/customers.csv", path.join(dir, "customers.csv"));
    const before = await batchCount();
    const badKey = await cli(
      ["import", "customers.csv", "--dataset", "cli-crm"],
      "sk_not_a_real_key",
    );
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(
      /^tessera: checking the key and dataset: 401 unauthorized: .* — check --key/,
    );
    expect(badKey.stderr).not.toMatch(/upload/);
    const noDataset = await cli(["import", "customers.csv", "--dataset", "no-such-dataset"]);
    expect(noDataset.code).toBe(1);
    expect(noDataset.stderr).toMatch(/no dataset "no-such-dataset": create it first/);
    expect(await batchCount()).toBe(before);
  });

  it("imports a file with the server's progress, writes the failed rows, and removes them after a clean run", async () => {
    const out = await cli(["import", "customers.csv", "--dataset", "cli-crm"]);
    expect(out.code, out.stderr).toBe(2);
    const summary = JSON.parse(out.stdout);
    expect(summary.rows).toMatchObject({ total: 42, ingested: 40, failed: 2 });
    // Not a TTY: progress is printed per quarter, and processing reaches 100 % from the server's byte offset.
    expect(out.stderr).toMatch(/upload: 100%/);
    expect(out.stderr).toMatch(/process: 100% 40 ingested, 2 failed/);
    const errorsFile = path.join(dir, "customers.csv.errors.ndjson");
    expect(readFileSync(errorsFile, "utf8").trim().split("\n")).toHaveLength(2);

    // The same file, fixed: a clean run leaves no stale errors file.
    const good = readFileSync(path.join(dir, "customers.csv"), "utf8")
      .split("\n")
      .filter(
        (line, i) =>
          i === 0 || (line && !line.includes("not-an-email") && !line.startsWith("null,")),
      );
    writeFileSync(path.join(dir, "customers.csv"), `${good.join("\n")}\n`);
    const clean = await cli(["import", "customers.csv", "--dataset", "cli-crm"]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout).rows.failed).toBe(0);
    expect(existsSync(errorsFile)).toBe(false);
  });

  it("looks up a profile", async () => {
    const out = await cli(["lookup", "crm:EX-1001", "--include", "segments"]);
    expect(out.code, out.stderr).toBe(0);
    const profile = JSON.parse(out.stdout);
    expect(profile.attributes).toMatchObject({ firstName: "Bob", loyalty: { tier: "gold" } });
    const missing = await cli(["lookup", "crm:NOPE-1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tessera: lookup crm:NOPE-1: 404 not_found: /);
  });

  it("looks up ids holding ?, %, /, # and spaces as they are", async () => {
    const ids = ["cli?x=1", "cli%41", "cli/slash", "cli#frag x"];
    await unwrap(
      tessera.v1.records.$post({
        query: {},
        json: {
          records: ids.map((id) => ({
            dataset: "default",
            identities: [{ namespace: "crm", id }],
            attributes: { label: id },
          })),
        },
      }),
    );
    for (const id of ids) {
      const out = await cli(["lookup", `crm:${id}`]);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout).attributes).toEqual({ label: id });
    }
  });

  it("creates, lists and deletes keys", async () => {
    const created = await cli(["keys", "create", "cli reader", "--scopes", "profiles:read"]);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({
      name: "cli reader",
      kind: "secret",
      scopes: ["profiles:read"],
      key: expect.stringMatching(/^sk_/),
    });
    const listed = JSON.parse((await cli(["keys"])).stdout) as { id: string }[];
    expect(listed.map((k) => k.id)).toContain(key.id);
    // The new key reads profiles but cannot import.
    const reader = await cli(["import", "customers.csv", "--dataset", "cli-crm"], key.key);
    expect(reader.stderr).toMatch(/403 forbidden: .* — the key lacks the scope/);
    expect((await cli(["keys", "delete", key.id])).code).toBe(0);
    expect((await cli(["lookup", "crm:EX-1001"], key.key)).stderr).toMatch(/401 unauthorized/);
  });

  it("shows the owner shards", async () => {
    const out = await cli(["shards"]);
    expect(out.code, out.stderr).toBe(0);
    const { shards, coordinator } = JSON.parse(out.stdout);
    expect(shards).toEqual([
      expect.objectContaining({
        id: 0,
        buckets: 16384,
        store: "local",
        projectionLag: expect.any(Number),
      }),
    ]);
    expect(shards[0].profiles).toBeGreaterThan(0);
    expect(coordinator).toEqual({ inFlight: 0, committed: 0, busyMs: 0 });
  });

  it("runs an export and waits for its files", async () => {
    await unwrap(
      tessera.v1.destinations[":name"].$put({
        param: { name: "cli-lake" },
        json: {
          type: "r2",
          prefix: "cli/",
          schedule: "manual",
          format: "ndjson",
          content: "profiles",
          mode: "full",
        },
      }),
    );
    const out = await cli(["export", "cli-lake"]);
    expect(out.code, out.stderr).toBe(0);
    const run = JSON.parse(out.stdout);
    expect(run).toMatchObject({
      destination: "cli-lake",
      status: "completed",
      content: "profiles",
    });
    expect(run.rows).toBeGreaterThan(0);
    expect(run.parts.length).toBeGreaterThan(0);
  });
});

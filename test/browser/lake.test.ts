/**
 * The lake: Parquet exports of profiles, events and the identity map, written to a real
 * S3-compatible server (s3rver) and read back by DuckDB as a data engineer would.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { AwsClient } from "aws4fetch";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, ensureSeeded, waitForRun } from "./api";

let server: any;
let endpoint: string;
const dir = mkdtempSync(path.join(tmpdir(), "tessera-lake-"));
const files = mkdtempSync(path.join(tmpdir(), "tessera-lake-files-"));
const s3 = new AwsClient({
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
  service: "s3",
  region: "us-east-1",
});
let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;

beforeAll(async () => {
  await ensureSeeded();
  server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: "lake" }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  duck = await DuckDBInstance.create(":memory:");
  await api("PUT", "/v1/datasets/lake-crm", { kind: "records" });
  await api("POST", "/v1/records", {
    records: [
      {
        dataset: "lake-crm",
        identities: [
          { namespace: "crm", id: "LAKE-1" },
          { namespace: "email", id: "lake-1@example.com" },
        ],
        attributes: { firstName: "Lina", loyalty: { tier: "gold", points: 1200 } },
      },
      {
        dataset: "lake-crm",
        identities: [{ namespace: "crm", id: "LAKE-2" }],
        attributes: { firstName: "Lars" },
      },
    ],
  });
  await api("POST", "/v1/events", {
    events: [
      {
        id: "lake-e1",
        type: "purchase",
        timestamp: "2026-10-01T10:00:00Z",
        identities: [{ namespace: "crm", id: "LAKE-1" }],
        data: { amount: 42.5, sku: "X" },
      },
      {
        id: "lake-e2",
        type: "page.view",
        timestamp: "2026-10-02T10:00:00Z",
        identities: [{ namespace: "crm", id: "LAKE-2" }],
      },
    ],
  });
});
afterAll(async () => {
  duck?.closeSync();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

async function runExport(name: string, config: Record<string, unknown>) {
  await api("PUT", `/v1/destinations/${name}`, {
    type: "s3",
    bucket: "lake",
    endpoint,
    region: "us-east-1",
    prefix: `${name}/`,
    schedule: "manual",
    credentials: { accessKeyId: "S3_TEST_KEY_ID", secretAccessKey: "S3_TEST_SECRET" },
    ...config,
  });
  const { runId } = await api("POST", `/v1/destinations/${name}/runs`);
  const run = await waitForRun(name, runId);
  if (run.status === "failed") throw new Error(`run failed: ${run.error}`);
  return run;
}

/** Downloads a run's parts and returns their local paths (what DuckDB reads). */
async function download(run: any): Promise<string[]> {
  const paths: string[] = [];
  for (const part of run.parts) {
    const res = await s3.fetch(
      `${endpoint}/lake/${part.path.split("/").map(encodeURIComponent).join("/")}`,
    );
    expect(res).toHaveStatus(200);
    const local = path.join(files, part.path.replaceAll("/", "_"));
    writeFileSync(local, Buffer.from(await res.arrayBuffer()));
    paths.push(local);
  }
  return paths;
}

async function query(sql: string) {
  const connection = await duck.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return {
      rows: reader.getRowObjectsJS(),
      types: Object.fromEntries(
        reader.columnNames().map((n, i) => [n, reader.columnType(i).toString()]),
      ),
    };
  } finally {
    connection.closeSync();
  }
}
const list = (paths: string[]) => `[${paths.map((p) => `'${p}'`).join(", ")}]`;

describe("Parquet in the lake, read by DuckDB", () => {
  it("profiles: typed columns, the right rows and values", async () => {
    const run = await runExport("lake-profiles", { format: "parquet" });
    expect(run).toMatchObject({ content: "profiles", format: "parquet", mode: "full" });
    expect(run.manifest).toMatch(
      /^lake-profiles\/content=profiles\/date=\d{4}-\d{2}-\d{2}\/run=run_[^/]+\/manifest\.json$/,
    );
    expect(run.parts.every((p: any) => /\/part-\d{5}\.parquet$/.test(p.path))).toBe(true);
    const parts = await download(run);
    const count = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${list(parts)})`);
    expect(count.rows[0]!.n).toBe(run.rows);
    const lina = await query(
      `SELECT profileId, primaryNamespace, primaryId, updatedAt, json_extract_string(attributes, '$.firstName') AS firstName,
              json_extract(attributes, '$.loyalty.points')::INTEGER AS points, identities
       FROM read_parquet(${list(parts)}) WHERE primaryId = 'LAKE-1'`,
    );
    expect(lina.rows).toHaveLength(1);
    expect(lina.rows[0]).toMatchObject({
      primaryNamespace: "crm",
      primaryId: "LAKE-1",
      firstName: "Lina",
      points: 1200,
    });
    expect(lina.types.profileId).toBe("VARCHAR");
    expect(lina.types.updatedAt).toMatch(/^TIMESTAMP/);
    expect(lina.rows[0]!.updatedAt).toBeInstanceOf(Date);
  });

  it("events and the identity map, with timestamps and numbers typed", async () => {
    const events = await runExport("lake-events", { format: "parquet", content: "events" });
    const eventParts = await download(events);
    const e = await query(
      `SELECT eventId, type, timestamp, dataset, profileId, namespace, identity, json_extract(data, '$.amount')::DOUBLE AS amount FROM read_parquet(${list(eventParts)}) WHERE eventId = 'lake-e1'`,
    );
    expect(e.rows[0]).toMatchObject({
      type: "purchase",
      namespace: "crm",
      identity: "LAKE-1",
      amount: 42.5,
    });
    expect((e.rows[0]!.timestamp as Date).toISOString()).toBe("2026-10-01T10:00:00.000Z");
    expect(e.types.timestamp).toMatch(/^TIMESTAMP/);
    const total = await query(
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${list(eventParts)})`,
    );
    expect(total.rows[0]!.n).toBe(events.rows);

    const identities = await runExport("lake-identities", {
      format: "parquet",
      content: "identities",
    });
    const idParts = await download(identities);
    const ids = await query(
      `SELECT namespace, id, profileId, firstSeen, lastSeen FROM read_parquet(${list(idParts)}) WHERE id IN ('LAKE-1', 'lake-1@example.com') ORDER BY namespace`,
    );
    expect(ids.rows.map((r) => [r.namespace, r.id])).toEqual([
      ["crm", "LAKE-1"],
      ["email", "lake-1@example.com"],
    ]);
    expect(ids.rows[0]!.profileId).toBe(ids.rows[1]!.profileId); // one person
    expect(ids.types.firstSeen).toMatch(/^TIMESTAMP/);
    expect(
      (await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${list(idParts)})`)).rows[0]!.n,
    ).toBe(identities.rows);
  });

  it("an incremental run after one changed profile exports just that profile", async () => {
    const first = await runExport("lake-incremental", { format: "parquet", mode: "incremental" });
    expect(first.rows).toBeGreaterThan(2); // the first run has nothing to continue from: everything
    await api("POST", "/v1/records", {
      records: [
        {
          dataset: "lake-crm",
          identities: [{ namespace: "crm", id: "LAKE-2" }],
          attributes: { firstName: "Lars", city: "Delft" },
        },
      ],
    });
    const second = await runExport("lake-incremental", { format: "parquet", mode: "incremental" });
    expect(second.rows).toBe(1);
    const rows = await query(
      `SELECT primaryId, json_extract_string(attributes, '$.city') AS city FROM read_parquet(${list(await download(second))})`,
    );
    expect(rows.rows).toEqual([{ primaryId: "LAKE-2", city: "Delft" }]);
    const third = await runExport("lake-incremental", { format: "parquet", mode: "incremental" });
    expect(third.rows).toBe(0);
    expect(third.parts).toEqual([]);
  });

  it("retention archives expired events as Parquet that DuckDB reads, before removing them", async () => {
    await runExport("lake-archive", { format: "parquet" }); // creates the destination
    await api("PUT", "/v1/datasets/lake-old", { kind: "events", ttlDays: 30 });
    const old = new Date(Date.now() - 45 * 86_400_000).toISOString();
    await api("POST", "/v1/events", {
      events: [
        {
          id: "lake-old-1",
          type: "visit",
          dataset: "lake-old",
          timestamp: old,
          identities: [{ namespace: "crm", id: "LAKE-1" }],
          data: { page: "/a", n: 1 },
        },
        {
          id: "lake-old-2",
          type: "visit",
          dataset: "lake-old",
          timestamp: old,
          identities: [{ namespace: "crm", id: "LAKE-2" }],
          data: { page: "/b", n: 2 },
        },
        {
          id: "lake-new-1",
          type: "visit",
          dataset: "lake-old",
          timestamp: new Date().toISOString(),
          identities: [{ namespace: "crm", id: "LAKE-1" }],
        },
      ],
    });
    await api("PUT", "/v1/settings/retention", {
      archiveDestination: "lake-archive",
      pseudonymousProfileDays: null,
    });
    try {
      const { runId } = await api("POST", "/v1/maintenance/runs");
      let run: any;
      for (let i = 0; i < 300 && !["completed", "failed"].includes(run?.status); i++) {
        await new Promise((r) => setTimeout(r, 100));
        run = (await api("GET", "/v1/maintenance/runs")).items.find((r: any) => r.runId === runId);
      }
      expect(run).toMatchObject({ status: "completed", eventsExpired: 2, eventsArchived: 2 });
      const parts = await download(run);
      const rows = await query(
        `SELECT eventId, type, timestamp, dataset, identity, json_extract(data, '$.n')::INTEGER AS n FROM read_parquet(${list(parts)}) ORDER BY eventId`,
      );
      expect(rows.rows.map((r) => [r.eventId, r.dataset, r.identity, r.n])).toEqual([
        ["lake-old-1", "lake-old", "LAKE-1", 1],
        ["lake-old-2", "lake-old", "LAKE-2", 2],
      ]);
      expect((rows.rows[0]!.timestamp as Date).toISOString()).toBe(old);
      expect(rows.types.timestamp).toMatch(/^TIMESTAMP/);
      const timeline = await api("GET", "/v1/profiles/by-identity/crm/LAKE-1?include=events");
      expect(timeline.events.map((e: any) => e.id)).toEqual(expect.arrayContaining(["lake-new-1"]));
      expect(timeline.events.map((e: any) => e.id)).not.toContain("lake-old-1");
    } finally {
      await api("PUT", "/v1/settings/retention", { archiveDestination: null });
      await api("PUT", "/v1/datasets/lake-old", { kind: "events" });
    }
  });
});

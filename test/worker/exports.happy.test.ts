import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { customers, recordsFor } from "../../scripts/lib/demo-data.mjs";
import {
  api,
  id,
  postRecords,
  putDataset,
  putDestination,
  putSegment,
  send,
  waitForRun,
  waitForSegment,
} from "../helpers";

async function gunzip(bytes: ArrayBuffer): Promise<string> {
  return new Response(
    new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).text();
}
async function sha256(bytes: ArrayBuffer) {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

describe("exports to R2", () => {
  it("writes gzip NDJSON parts and a manifest whose counts and hashes match; erased and consent-n profiles are absent", async () => {
    await putDataset("crm", { kind: "records" });
    await putDataset("loyalty", { kind: "records" });
    const people = customers(1200);
    const records = recordsFor(people);
    for (let i = 0; i < records.length; i += 1000) await postRecords(records.slice(i, i + 1000));
    // One person erased, one with marketing consent "n" (the demo data has more of those).
    await postRecords([
      {
        dataset: "crm",
        identities: [id("crm", "CUST-10001")],
        attributes: { consent: { marketing: "n" } },
      },
    ]);
    await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
        param: { namespace: "crm", id: "CUST-10002" },
        query: {},
      }),
    );
    const noConsent = people.filter((p, i) => i !== 2 && (p.marketing === "n" || i === 1)).length;

    const put = await putDestination("warehouse", {
      type: "r2",
      prefix: "exports/",
      schedule: "daily",
    });
    expect(put).toHaveStatus(200);
    const started = await send(
      api.v1.destinations[":name"].runs.$post({ param: { name: "warehouse" }, query: {} }),
    );
    expect(started).toHaveStatus(202);
    const run = await waitForRun("warehouse", started.json.runId);
    expect(run.status).toBe("completed");
    expect(run.profiles).toBe(1200 - 1 - noConsent);
    expect(run.parts.length).toBe(2);

    const folder = `exports/content=profiles/date=${run.startedAt.slice(0, 10)}/run=${run.runId}/`;
    expect(run.manifest).toBe(`${folder}manifest.json`);
    expect(run).toMatchObject({
      content: "profiles",
      format: "ndjson",
      mode: "full",
      rows: run.profiles,
    });
    const manifest = JSON.parse(await (await env.FILES.get(`${folder}manifest.json`))!.text());
    expect(manifest.profiles).toBe(run.profiles);
    let lines: any[] = [];
    for (const part of manifest.parts) {
      const bytes = await (await env.FILES.get(`${folder}${part.name}`))!.arrayBuffer();
      expect(await sha256(bytes)).toBe(part.sha256);
      expect(bytes.byteLength).toBe(part.bytes);
      const rows = (await gunzip(bytes))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(rows).toHaveLength(part.rows);
      lines = lines.concat(rows);
    }
    expect(lines).toHaveLength(manifest.profiles);
    const primaries = new Set(lines.map((l) => l.primaryIdentity.id));
    expect(primaries.has("CUST-10002")).toBe(false); // erased
    expect(primaries.has("CUST-10001")).toBe(false); // consent "n"
    expect(primaries.has("CUST-10000")).toBe(true);
    expect(lines.every((l) => l.attributes?.consent?.marketing !== "n")).toBe(true);
    expect(lines.find((l) => l.primaryIdentity.id === "CUST-10000").attributes.firstName).toBe(
      "John",
    );

    // The same profiles as Parquet: the same rows, in fewer bytes than the gzip NDJSON.
    await putDestination("warehouse-parquet", {
      type: "r2",
      prefix: "exports/",
      schedule: "manual",
      format: "parquet",
    });
    const parquet = await waitForRun(
      "warehouse-parquet",
      (
        await send(
          api.v1.destinations[":name"].runs.$post({
            param: { name: "warehouse-parquet" },
            query: {},
          }),
        )
      ).json.runId,
    );
    expect(parquet.status).toBe("completed");
    expect(parquet.rows).toBe(run.rows);
    const bytes = (r: { parts: { bytes: number }[] }) =>
      r.parts.reduce((sum, p) => sum + p.bytes, 0);
    expect(bytes(parquet)).toBeLessThan(bytes(run));
    const head = new Uint8Array(
      await (await env.FILES.get(parquet.parts[0]!.path!))!.arrayBuffer(),
    );
    expect(new TextDecoder().decode(head.slice(0, 4))).toBe("PAR1");
  });

  it("projects attributes and filters by segment; credentials are names, never values", async () => {
    await putSegment("gold", {
      name: "Gold",
      rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
    });
    await waitForSegment("gold");
    await putDestination("gold-only", {
      type: "r2",
      schedule: "manual",
      segment: "gold",
      attributes: ["firstName", "loyalty.tier"],
      includeNoConsent: true,
    });
    const run = await waitForRun(
      "gold-only",
      (
        await send(
          api.v1.destinations[":name"].runs.$post({ param: { name: "gold-only" }, query: {} }),
        )
      ).json.runId,
    );
    const size = (await send(api.v1.segments[":id"].$get({ param: { id: "gold" } }))).json.size;
    expect(run.profiles).toBe(size);
    const bytes = await (await env.FILES.get(run.parts[0]!.path!))!.arrayBuffer();
    const rows = (await gunzip(bytes))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(
      rows.every(
        (r) =>
          Object.keys(r.attributes).every((k) => ["firstName", "loyalty"].includes(k)) &&
          r.attributes.loyalty.tier === "gold",
      ),
    ).toBe(true);

    const s3 = await putDestination("lake", {
      type: "s3",
      bucket: "lake",
      endpoint: "https://s3.eu-west-1.amazonaws.com",
      region: "eu-west-1",
      schedule: "manual",
      credentials: { accessKeyId: "LAKE_KEY_ID", secretAccessKey: "LAKE_SECRET" },
    });
    expect(s3.json.config.credentials).toEqual({
      accessKeyId: "LAKE_KEY_ID",
      secretAccessKey: "LAKE_SECRET",
    });
    const missing = await putDestination("bad", { type: "s3", schedule: "manual" });
    expect(missing).toHaveStatus(400);
  });
});

describe("incremental identity exports", () => {
  it("export an identity whose last-seen time lies in the future once, not on every later run", async () => {
    await putDestination("idmap", {
      type: "r2",
      prefix: "idmap/",
      schedule: "manual",
      content: "identities",
      mode: "incremental",
    });
    const exported = async () => {
      const run = await waitForRun(
        "idmap",
        (
          await send(
            api.v1.destinations[":name"].runs.$post({ param: { name: "idmap" }, query: {} }),
          )
        ).json.runId,
      );
      expect(run.status).toBe("completed");
      const rows: any[] = [];
      for (const part of run.parts)
        rows.push(
          ...(await gunzip(await (await env.FILES.get(part.path!))!.arrayBuffer()))
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
      return rows.map((r) => `${r.namespace}:${r.id}`);
    };
    await exported(); // everything so far
    // Seen "tomorrow" by a device whose clock runs ahead (timestamps up to now + 1 day are valid).
    await postRecords([
      {
        dataset: "default",
        identities: [id("crm", "FUTURE-1")],
        attributes: { x: 1 },
        timestamp: new Date(Date.now() + 12 * 3600_000).toISOString(),
      },
    ]);
    const runs = [await exported(), await exported(), await exported()];
    expect(runs.flat().filter((i) => i === "crm:FUTURE-1")).toHaveLength(1);
  });
});

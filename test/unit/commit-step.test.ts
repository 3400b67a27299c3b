/**
 * The writer's one commit step (worker/writer/commit.ts) over a fake host, in Node: the
 * host's store is the writer's own SQL adapter (`LocalSql`, the same one the Durable Object
 * uses) on an in-memory `node:sqlite` database with the real migrations, and the config,
 * ids and suppression are plain objects. What it checks: a slice's statements, the segment
 * transitions it evaluates and the webhook deliveries they cause are written together in
 * one transaction, or not at all.
 */
import { describe, expect, it } from "vitest";
import type { WebhookDestinationConfig } from "../../shared/schemas/destinations";
import { DEFAULT_CONSENT } from "../../worker/consent/merge";
import type { ProfileFacts } from "../../worker/db/queries/segments";
import { commitSlice } from "../../worker/writer/commit";
import type { WriterConfig, WriterHost } from "../../worker/writer/host";
import { migrateWriterSql } from "../../worker/writer/local-schema";
import { LocalSql } from "../../worker/writer/local-sql";
import { sqliteStorage } from "./sqlite-storage";

const NOW = Date.parse("2026-06-01T09:00:00Z");

/** The writer's storage with the real migrations. */
function migratedStorage() {
  const { db, storage } = sqliteStorage();
  migrateWriterSql(storage);
  return { db, storage };
}

function fakeHost(webhooks: WriterConfig["webhooks"] = []) {
  const { db, storage } = migratedStorage();
  const local = new LocalSql(storage);
  let sequence = 0;
  const commits: number[] = [];
  const host: WriterHost = {
    config: {
      current: async () => ({
        rules: {} as WriterConfig["rules"],
        segments: [],
        computed: [],
        consent: DEFAULT_CONSENT,
        readsConsent: false,
        webhooks,
        newProfileId: () => "unused",
      }),
      invalidate: () => undefined,
    },
    ids: {
      countersRead: () => {
        throw new Error("not used");
      },
      loaded: () => undefined,
      ensure: async () => undefined,
      identity: () => 1,
      history: () => 1,
      sequence: () => ++sequence,
    },
    suppression: { hasher: async () => async (key: string) => key },
    store: {
      sql: local.asHandle(),
      read: async () => {
        throw new Error("not used");
      },
      commit: async (statements) => {
        await local.batch(statements as unknown as Parameters<LocalSql["batch"]>[0]);
        commits.push(statements.length);
        return commits.length;
      },
    },
  };
  const rows = (sql: string) => db.prepare(sql).all() as Record<string, unknown>[];
  return { host, sql: local.asHandle(), rows, commits };
}

const hook = (events: WebhookDestinationConfig["events"]) => ({
  name: "crm",
  config: {
    type: "webhook",
    url: "https://hooks.example.com/crm",
    events,
  } as WebhookDestinationConfig,
});
/** The settings rows these tests write (the migrations seed others). */
const MINE = "SELECT key FROM settings WHERE key IN ('a', 'progress') ORDER BY key";
const setting = (sql: D1Database, key: string) =>
  sql
    .prepare("INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)")
    .bind(key, JSON.stringify({ at: NOW }), NOW);

describe("the commit step", () => {
  it("writes the slice's statements and the deliveries its facts cause in one commit, numbered", async () => {
    const { host, sql, rows, commits } = fakeHost([hook(["profile.merged", "profile.split"])]);
    const done = await commitSlice(host, {
      statements: [setting(sql, "a")],
      activation: [
        { type: "profile.merged", profileId: "p1", at: NOW, profiles: ["p2"] },
        { type: "segment.entered", profileId: "p1", at: NOW, segmentId: "gold" }, // not subscribed
        { type: "profile.split", profileId: "p1", at: NOW, profiles: ["p3"] },
      ],
      trailing: [setting(sql, "progress")],
    });
    // One write: the slice's statement, one statement inserting both deliveries, the trailing step.
    expect(commits).toEqual([3]);
    expect(rows(MINE).map((r) => r.key)).toEqual(["a", "progress"]);
    const deliveries = rows(
      "SELECT id, type, profile_id, sequence, status FROM webhook_deliveries ORDER BY sequence",
    );
    expect(deliveries.map((d) => [d.type, d.profile_id, d.sequence, d.status])).toEqual([
      ["profile.merged", "p1", 1, "pending"],
      ["profile.split", "p1", 2, "pending"],
    ]);
    expect(done.deliveryIds).toEqual(deliveries.map((d) => d.id));
  });

  it("writes nothing at all when one statement fails", async () => {
    const { host, sql, rows } = fakeHost([hook(["profile.merged"])]);
    await expect(
      commitSlice(host, {
        statements: [setting(sql, "a"), setting(sql, "a")], // the second breaks the primary key
        activation: [{ type: "profile.merged", profileId: "p1", at: NOW, profiles: ["p2"] }],
      }),
    ).rejects.toThrow();
    expect(rows(MINE)).toEqual([]);
    expect(rows("SELECT id FROM webhook_deliveries")).toEqual([]);
  });

  it("evaluates stored facts: a profile that now matches enters, its membership and delivery written with it", async () => {
    const { host, rows } = fakeHost([hook(["segment.entered", "segment.exited"])]);
    let before = 0;
    const facts: ProfileFacts = {
      primaries: [{ profileId: "p1", namespace: "crm", value: "C-1" }],
      fragments: [
        {
          profileId: "p1",
          namespace: "crm",
          value: "C-1",
          dataset: "crm",
          attributes: JSON.stringify({ tier: "gold" }),
          updatedAt: NOW,
        },
      ],
      events: [],
      memberships: [],
      choices: [],
    };
    const done = await commitSlice(
      host,
      {
        statements: [],
        activation: [],
        evaluate: {
          profileIds: ["p1"],
          segments: [
            {
              id: "gold",
              rule: { attr: "tier", op: "eq", value: "gold" },
              public: false,
              version: 1,
            },
          ],
          facts,
          now: NOW,
        },
      },
      () => {
        before = rows("SELECT * FROM memberships").length;
      },
    );
    expect(before).toBe(0); // beforeWrite ran before the write
    expect(done).toMatchObject({ realized: 1, exited: 0 });
    expect(rows("SELECT segment_id, profile_id, status FROM memberships")).toEqual([
      { segment_id: "gold", profile_id: "p1", status: "realized" },
    ]);
    const [delivery] = rows("SELECT type, payload FROM webhook_deliveries");
    expect(delivery?.type).toBe("segment.entered");
    expect(JSON.parse(String(delivery?.payload)).data).toMatchObject({
      profileId: "p1",
      primaryIdentity: { namespace: "crm", id: "C-1" },
      segment: { id: "gold" },
    });
  });
});

/**
 * The writer's own SQLite schema (worker/writer/local-schema.ts), in Node: D1's migrations
 * fitted to what the writer reads — no report tables' triggers or indexes, events clustered
 * by id — and an events table of the older rowid shape rebuilt with its rows, indexes and
 * other triggers.
 */
import { describe, expect, it } from "vitest";
import { migrateWriterSql } from "../../worker/writer/local-schema";
import { type SqliteDb, sqliteStorage } from "./sqlite-storage";

const master = (db: SqliteDb, type: string, table: string) =>
  (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = ? AND tbl_name = ? ORDER BY name")
      .all(type, table) as { name: string }[]
  ).map((r) => r.name);
const tableSql = (db: SqliteDb) =>
  (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'events'").get() as { sql: string }).sql;

describe("the writer's SQLite schema", () => {
  it("keeps events clustered by id with their identity index, and no report triggers or indexes", () => {
    const { db, storage } = sqliteStorage();
    migrateWriterSql(storage);
    expect(tableSql(db)).toMatch(/WITHOUT ROWID$/);
    expect(master(db, "trigger", "events")).toEqual([]);
    expect(master(db, "index", "events")).toEqual(["events_identity_at_idx"]);
    expect(master(db, "trigger", "message_firsts")).toEqual([]);
    // An insert costs the row and its one index entry.
    const changes = db
      .prepare(
        "INSERT INTO events (id, type, at, dataset, identity_id, data, received_at) VALUES ('e1', 'page.view', 1, 'web', 7, NULL, 1)",
      )
      .run().changes;
    expect(Number(changes)).toBe(1);
  });

  it("rebuilds an events table of the rowid shape with its rows, indexes and other triggers; a second start changes nothing", () => {
    const { db, storage } = sqliteStorage();
    migrateWriterSql(storage);
    // The shape a writer had before: a rowid table (with its key index), holding events.
    db.exec(`DROP TABLE events;
      CREATE TABLE events (id text PRIMARY KEY NOT NULL, type text NOT NULL, at integer NOT NULL,
        dataset text NOT NULL, identity_id integer NOT NULL, data text, received_at integer NOT NULL);
      CREATE INDEX events_identity_at_idx ON events (identity_id, at);
      CREATE TABLE audit_events (id text);
      CREATE TRIGGER events_audit AFTER INSERT ON events BEGIN INSERT INTO audit_events VALUES (NEW.id); END;`);
    const insert = db.prepare(
      "INSERT INTO events (id, type, at, dataset, identity_id, data, received_at) VALUES (?, 'page.view', ?, 'web', ?, ?, ?)",
    );
    for (let i = 0; i < 50; i++) insert.run(`e${i}`, 1000 + i, i % 5, JSON.stringify({ i }), 2000);
    const before = db.prepare("SELECT * FROM events ORDER BY id").all();

    migrateWriterSql(storage);
    expect(tableSql(db)).toMatch(/WITHOUT ROWID$/);
    expect(db.prepare("SELECT * FROM events ORDER BY id").all()).toEqual(before);
    expect(master(db, "index", "events")).toEqual(["events_identity_at_idx"]);
    expect(master(db, "trigger", "events")).toEqual(["events_audit"]);
    db.prepare(
      "INSERT INTO events (id, type, at, dataset, identity_id, data, received_at) VALUES ('late', 'click', 1, 'web', 1, NULL, 1)",
    ).run();
    expect(db.prepare("SELECT id FROM audit_events WHERE id = 'late'").all()).toHaveLength(1);

    const sqlBefore = tableSql(db);
    migrateWriterSql(storage);
    expect(tableSql(db)).toBe(sqlBefore);
    expect(db.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 51 });
  });
});

// The physical floor: the same rows written to a plain SQLite file with Node's own
// SQLite, in transactions of 1,000, on the same machine. No HTTP, no identity graph —
// just the inserts a profile store cannot avoid (identities, fragments, events).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";

export function openBaseline() {
  const dir = mkdtempSync(path.join(tmpdir(), "tessera-baseline-"));
  const db = new DatabaseSync(path.join(dir, "baseline.sqlite"));
  db.exec(`
    PRAGMA journal_mode = WAL;
    CREATE TABLE identities (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, value TEXT NOT NULL, profile_id TEXT NOT NULL,
      first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
    CREATE UNIQUE INDEX identities_uq ON identities (namespace, value);
    CREATE INDEX identities_profile ON identities (profile_id);
    CREATE TABLE fragments (dataset TEXT NOT NULL, identity_id INTEGER NOT NULL, attributes TEXT NOT NULL, updated_at INTEGER NOT NULL,
      PRIMARY KEY (dataset, identity_id));
    CREATE INDEX fragments_identity ON fragments (identity_id);
    CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, dataset TEXT NOT NULL, identity_id INTEGER NOT NULL,
      data TEXT, received_at INTEGER NOT NULL);
    CREATE INDEX events_identity_at ON events (identity_id, at);
  `);
  const upsertIdentity = db.prepare(
    `INSERT INTO identities (namespace, value, profile_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (namespace, value) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen) RETURNING id`,
  );
  const upsertFragment = db.prepare(
    `INSERT INTO fragments (dataset, identity_id, attributes, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (dataset, identity_id) DO UPDATE SET attributes = json_patch(attributes, excluded.attributes), updated_at = excluded.updated_at`,
  );
  const insertEvent = db.prepare(
    `INSERT OR IGNORE INTO events (id, type, at, dataset, identity_id, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const lookup = db.prepare(
    `SELECT i2.namespace, i2.value, f.dataset, f.attributes FROM identities i1
     JOIN identities i2 ON i2.profile_id = i1.profile_id
     LEFT JOIN fragments f ON f.identity_id = i2.id
     WHERE i1.namespace = ? AND i1.value = ?`,
  );

  function identityIds(item, at) {
    const profile = `${item.identities[0].namespace}:${item.identities[0].id}`;
    return item.identities.map((x) => upsertIdentity.get(x.namespace, x.id, profile, at, at).id);
  }

  return {
    /** Writes items (records or events) in transactions of 1,000; returns seconds. */
    write(kind, items) {
      const started = performance.now();
      for (let i = 0; i < items.length; i += 1000) {
        db.exec("BEGIN");
        for (const item of items.slice(i, i + 1000)) {
          const at = Date.parse(item.timestamp);
          const ids = identityIds(item, at);
          if (kind === "records")
            upsertFragment.run(item.dataset, ids[0], JSON.stringify(item.attributes), at);
          else
            insertEvent.run(
              item.id,
              item.type,
              at,
              item.dataset,
              ids[0],
              JSON.stringify(item.data),
              Date.now(),
            );
        }
        db.exec("COMMIT");
      }
      return (performance.now() - started) / 1000;
    },
    lookup(namespace, value) {
      return lookup.all(namespace, value);
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A shard's side of the protocol (`ParticipantStore` of protocol.ts) over the writer's own
 * SQLite: components are the writer's rows (`component-rows.ts`), and the protocol's state
 * sits in three tables beside them — freezes, identity-index entries, and the outcome of
 * every transaction the shard took part in.
 *
 * The identity index holds explicit entries only for keys whose component lives on another
 * shard than their index bucket's (a coordinator writes them when it moves a component), and
 * for reservations and suppressions. A key whose component lives here needs none: the
 * `identities` table answers for it, and a local claim — a new key whose index bucket this
 * shard hosts — writes no entry.
 */

import type {
  Component,
  IndexEntry,
  Key,
  ParticipantStore,
  ProfileId,
  TxId,
} from "../../shards/protocol";
import type { ComponentRows } from "./component-rows";
import { componentKeys, installComponent, readComponent, removeComponent } from "./component-rows";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS _shard_freezes (profile_id TEXT PRIMARY KEY, tx INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS _shard_freezes_tx ON _shard_freezes (tx)",
  `CREATE TABLE IF NOT EXISTS _shard_index (key TEXT PRIMARY KEY, state TEXT NOT NULL,
     home INTEGER, tx INTEGER) WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS _shard_index_tx ON _shard_index (tx) WHERE tx IS NOT NULL",
  "CREATE TABLE IF NOT EXISTS _shard_tx (tx INTEGER PRIMARY KEY, outcome TEXT NOT NULL)",
];

/** "namespace:value" at its first colon (namespaces never hold one). */
function splitKey(key: Key): [string, string] {
  const at = key.indexOf(":");
  return [key.slice(0, at), key.slice(at + 1)];
}

export class SqlParticipant implements ParticipantStore<ComponentRows> {
  private readonly sql: SqlStorage;

  constructor(
    readonly shard: number,
    private readonly storage: DurableObjectStorage,
  ) {
    this.sql = storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  ownerOf(key: Key): ProfileId | undefined {
    const [namespace, value] = splitKey(key);
    return this.sql
      .exec<{ profile_id: string }>(
        "SELECT profile_id FROM identities WHERE namespace = ? AND value = ?",
        namespace,
        value,
      )
      .toArray()[0]?.profile_id;
  }

  /** The identity keys of a profile held here. */
  keysOf(profileId: ProfileId): Key[] {
    return this.sql
      .exec<{ namespace: string; value: string }>(
        "SELECT namespace, value FROM identities WHERE profile_id = ?",
        profileId,
      )
      .toArray()
      .map((r) => `${r.namespace}:${r.value}`);
  }

  component(profileId: ProfileId): Component<ComponentRows> | undefined {
    const rows = readComponent(this.sql, profileId);
    return rows && { profileId, keys: componentKeys(rows), payload: rows };
  }

  put(component: Component<ComponentRows>): void {
    installComponent(this.sql, component.payload);
  }

  remove(profileId: ProfileId): void {
    removeComponent(this.sql, profileId);
  }

  frozenBy(profileId: ProfileId): TxId | undefined {
    return this.sql
      .exec<{ tx: number }>("SELECT tx FROM _shard_freezes WHERE profile_id = ?", profileId)
      .toArray()[0]?.tx;
  }

  setFrozen(profileId: ProfileId, tx: TxId | undefined): void {
    if (tx === undefined)
      this.sql.exec("DELETE FROM _shard_freezes WHERE profile_id = ?", profileId);
    else
      this.sql.exec(
        "INSERT OR REPLACE INTO _shard_freezes (profile_id, tx) VALUES (?, ?)",
        profileId,
        tx,
      );
  }

  frozen(tx: TxId): ProfileId[] {
    return this.sql
      .exec<{ profile_id: string }>("SELECT profile_id FROM _shard_freezes WHERE tx = ?", tx)
      .toArray()
      .map((r) => r.profile_id);
  }

  /** Whether any component here is frozen (a shard's lane checks this before its own groups). */
  anyFrozen(): boolean {
    return this.sql.exec("SELECT 1 FROM _shard_freezes LIMIT 1").toArray().length > 0;
  }

  indexEntry(key: Key): IndexEntry | undefined {
    const row = this.sql
      .exec<{ state: string; home: number | null; tx: number | null }>(
        "SELECT state, home, tx FROM _shard_index WHERE key = ?",
        key,
      )
      .toArray()[0];
    if (!row) return undefined;
    if (row.state === "reserved") return { state: "reserved", tx: row.tx! };
    if (row.state === "suppressed") return { state: "suppressed" };
    return { state: "live", home: row.home! };
  }

  setIndexEntry(key: Key, entry: IndexEntry | undefined): void {
    if (entry === undefined) this.sql.exec("DELETE FROM _shard_index WHERE key = ?", key);
    else
      this.sql.exec(
        "INSERT OR REPLACE INTO _shard_index (key, state, home, tx) VALUES (?, ?, ?, ?)",
        key,
        entry.state,
        entry.state === "live" ? entry.home : null,
        entry.state === "reserved" ? entry.tx : null,
      );
  }

  reserved(tx: TxId): Key[] {
    return this.sql
      .exec<{ key: string }>("SELECT key FROM _shard_index WHERE tx = ? AND state = 'reserved'", tx)
      .toArray()
      .map((r) => r.key);
  }

  outcome(tx: TxId): "prepared" | "committed" | "aborted" | undefined {
    return this.sql
      .exec<{ outcome: "prepared" | "committed" | "aborted" }>(
        "SELECT outcome FROM _shard_tx WHERE tx = ?",
        tx,
      )
      .toArray()[0]?.outcome;
  }

  setOutcome(tx: TxId, outcome: "prepared" | "committed" | "aborted"): void {
    this.sql.exec("INSERT OR REPLACE INTO _shard_tx (tx, outcome) VALUES (?, ?)", tx, outcome);
  }

  transaction<T>(step: () => T): T {
    return this.storage.transactionSync(step);
  }
}

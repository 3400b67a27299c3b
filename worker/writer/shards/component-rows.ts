/**
 * A component — a profile with its identities and everything they own — as rows of the
 * writer's SQLite: what travels between owner shards when a merge crosses them or a bucket
 * moves (design/scale-out.md §3.7). Reading and writing here is local to one shard's store;
 * D1 is not told (it holds every shard's rows in one database, so a component changing
 * shards changes nothing there — the decision's own statements are what D1 replays).
 *
 * What a component owns: its `profiles` row; its `identities`; the links whose `a` end is
 * one of them (the graph loads a link when both ends are loaded, so an unapplied link to
 * another component travels with its `a` end); the fragments, events, consent records and
 * window rechecks of its identities; the profile's search terms, memberships and graph
 * history. The attribute index is not carried: it is derived from the fragments (the
 * writer's own json_tree walk), removed before them and rebuilt after.
 */
import { identityKey } from "../../../shared/identity/normalize";
import { leavesOf } from "../../db/queries/attribute-index";

type Row = Record<string, string | number | null>;

/** Identities of the profile `?1`. */
const MEMBERS = "SELECT id FROM identities WHERE profile_id = ?1";

/** Rows owned through an identity; `ids` selects the identities. */
const byIdentity = (ids: string) =>
  [
    { table: "links", where: `a_id IN (${ids})` },
    { table: "fragments", where: `identity_id IN (${ids})` },
    { table: "events", where: `identity_id IN (${ids})` },
    { table: "consent_records", where: `identity_id IN (${ids})` },
    { table: "computed_rechecks", where: `identity_id IN (${ids})` },
  ] as const;

/** The owned tables, in insert order (identities before the rows that name them). */
const OWNED = [
  { table: "profiles", where: "id = ?1" },
  { table: "identities", where: "profile_id = ?1" },
  ...byIdentity(MEMBERS),
  { table: "profile_terms", where: "profile_id = ?1" },
  { table: "memberships", where: "profile_id = ?1" },
  {
    table: "graph_history",
    where: "id IN (SELECT history_id FROM graph_history_profiles WHERE profile_id = ?1)",
  },
  { table: "graph_history_profiles", where: "profile_id = ?1" },
] as const;

type OwnedTable = (typeof OWNED)[number]["table"];

/** The tables a component's rows come from. */
export const COMPONENT_TABLES: readonly OwnedTable[] = OWNED.map((o) => o.table);

export type ComponentRows = Record<OwnedTable, Row[]>;

/** The rows of `profileId`'s component, or undefined when this store has no such profile. */
export function readComponent(sql: SqlStorage, profileId: string): ComponentRows | undefined {
  const rows = {} as ComponentRows;
  for (const { table, where } of OWNED)
    rows[table] = sql.exec<Row>(`SELECT * FROM ${table} WHERE ${where}`, profileId).toArray();
  return rows.profiles.length === 0 ? undefined : rows;
}

/** The identity keys ("namespace:value") of a component. */
export const componentKeys = (rows: ComponentRows): string[] =>
  rows.identities.map((i) => identityKey(String(i.namespace), String(i.value)));

/** Deletes what the identities selected by `ids` (a query over `?1`) own, their attribute index first. */
function removeIdentityRows(sql: SqlStorage, ids: string, arg: string | number): void {
  sql.exec(
    `DELETE FROM attribute_index WHERE (path, value, identity_id, dataset) IN (${leavesOf("fragments f", `f.identity_id IN (${ids})`)})`,
    arg,
  );
  for (const { table, where } of byIdentity(ids))
    sql.exec(`DELETE FROM ${table} WHERE ${where}`, arg);
}

/**
 * Removes `profileId`'s component. Graph history shared with another profile stays (a
 * merge's history row names every profile it joined).
 */
export function removeComponent(sql: SqlStorage, profileId: string): void {
  removeIdentityRows(sql, MEMBERS, profileId);
  const history = sql
    .exec<{ history_id: number }>(
      "SELECT history_id FROM graph_history_profiles WHERE profile_id = ?1",
      profileId,
    )
    .toArray()
    .map((r) => r.history_id);
  for (const table of ["profile_terms", "memberships", "graph_history_profiles"])
    sql.exec(`DELETE FROM ${table} WHERE profile_id = ?1`, profileId);
  sql.exec(
    `DELETE FROM graph_history WHERE id IN (SELECT value FROM json_each(?1))
       AND NOT EXISTS (SELECT 1 FROM graph_history_profiles p WHERE p.history_id = graph_history.id)`,
    JSON.stringify(history),
  );
  sql.exec("DELETE FROM identities WHERE profile_id = ?1", profileId);
  sql.exec("DELETE FROM profiles WHERE id = ?1", profileId);
}

/**
 * Writes a component, replacing the one with its profile id. An identity that still belongs
 * to another profile here (a split written before the part it left) brings only its new
 * rows. The attribute index is rebuilt from the fragments.
 */
export function installComponent(sql: SqlStorage, rows: ComponentRows): void {
  const profileId = String(rows.profiles[0]!.id);
  removeComponent(sql, profileId);
  removeIdentityRows(
    sql,
    "SELECT value FROM json_each(?1)",
    JSON.stringify(rows.identities.map((i) => i.id)),
  );
  for (const { table } of OWNED)
    for (const row of rows[table]) {
      const columns = Object.keys(row);
      sql.exec(
        `INSERT OR REPLACE INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        ...columns.map((c) => row[c] ?? null),
      );
    }
  sql.exec(
    `INSERT OR IGNORE INTO attribute_index (path, value, identity_id, dataset) ${leavesOf("fragments f", `f.identity_id IN (${MEMBERS})`)}`,
    profileId,
  );
}

/**
 * Profile reads. A lookup is one D1 batch (one round trip) of a fixed number of indexed
 * queries, whatever the number of profiles: the profile row, its identities, their
 * fragments, and optionally recent events and memberships.
 */
import { COMPUTED_DATASET } from "../../../shared/schemas/computed";
import { searchWords } from "../../../shared/search-terms";
import type { IdentityRef } from "../../model/graph";
import { LEAF_PATH, LEAF_VALUE } from "./attribute-index";

export type ProfileSelector = { identity: IdentityRef } | { profileId: string };

export interface ProfileRow {
  id: string;
  primary_namespace: string;
  primary_value: string;
  display_name: string | null;
  identity_count: number;
  created_at: number;
  updated_at: number;
}

export interface IdentityOut {
  id: number;
  namespace: string;
  value: string;
  first_seen: number;
  last_seen: number;
}

export interface ChoiceOut {
  identity_id: number;
  purpose: string;
  status: "granted" | "denied";
  at: number;
  source: string;
}

export interface FragmentRow {
  dataset: string;
  identity_id: number;
  attributes: string;
  updated_at: number;
  meta?: string | null;
}

export interface EventRow {
  id: string;
  type: string;
  at: number;
  dataset: string;
  identity_id: number;
  data: string | null;
}

export interface MembershipRow {
  segment_id: string;
  name: string;
  status: string;
  since: number;
}

export interface ProfileBundle {
  profile: ProfileRow;
  identities: IdentityOut[];
  fragments: FragmentRow[];
  choices: ChoiceOut[];
  events?: EventRow[];
  memberships?: MembershipRow[];
}

/** SQL for "the profile id" plus its bindings (?1, ?2). */
function selectorSql(selector: ProfileSelector): { sql: string; binds: [string, string] } {
  if ("identity" in selector) {
    return {
      sql: "(SELECT profile_id FROM identities WHERE namespace = ?1 AND value = ?2)",
      binds: [selector.identity.namespace, selector.identity.value],
    };
  }
  return { sql: "(SELECT ?1 WHERE ?2 = ?2)", binds: [selector.profileId, ""] };
}

export async function loadProfile(
  d1: D1Database,
  selector: ProfileSelector,
  include: { events?: number; memberships?: boolean },
): Promise<ProfileBundle | undefined> {
  const { sql: pid, binds } = selectorSql(selector);
  const ids = `(SELECT id FROM identities WHERE profile_id = ${pid})`;
  const statements = [
    d1
      .prepare(
        `SELECT id, primary_namespace, primary_value, display_name, identity_count, created_at, updated_at FROM profiles WHERE id = ${pid}`,
      )
      .bind(...binds),
    d1
      .prepare(
        `SELECT id, namespace, value, first_seen, last_seen FROM identities WHERE profile_id = ${pid} ORDER BY namespace, value`,
      )
      .bind(...binds),
    d1
      .prepare(
        `SELECT dataset, identity_id, attributes, updated_at, meta FROM fragments WHERE identity_id IN ${ids}`,
      )
      .bind(...binds),
    // Each identity's newest consent choice per purpose (SPEC §8).
    d1
      .prepare(
        `SELECT identity_id, purpose, status, at, source FROM (
           SELECT c.*, row_number() OVER (PARTITION BY c.identity_id, c.purpose ORDER BY c.at DESC, c.recorded_at DESC) AS rn
           FROM consent_records c WHERE c.identity_id IN ${ids}) WHERE rn = 1`,
      )
      .bind(...binds),
  ];
  if (include.events) {
    statements.push(
      d1
        .prepare(
          `SELECT id, type, at, dataset, identity_id, data FROM events WHERE identity_id IN ${ids} ORDER BY at DESC, id DESC LIMIT ?3`,
        )
        .bind(...binds, include.events),
    );
  }
  if (include.memberships) {
    statements.push(
      d1
        .prepare(
          `SELECT m.segment_id, s.name, m.status, m.since FROM memberships m JOIN segments s ON s.id = m.segment_id
           WHERE m.profile_id = ${pid} ORDER BY m.segment_id`,
        )
        .bind(...binds),
    );
  }
  const results = await d1.batch(statements);
  const profile = results[0]!.results[0] as ProfileRow | undefined;
  if (!profile) return undefined;
  let next = 4;
  return {
    profile,
    identities: results[1]!.results as IdentityOut[],
    fragments: results[2]!.results as FragmentRow[],
    choices: results[3]!.results as ChoiceOut[],
    events: include.events ? (results[next++]!.results as EventRow[]) : undefined,
    memberships: include.memberships ? (results[next++]!.results as MembershipRow[]) : undefined,
  };
}

// ---- search --------------------------------------------------------------------------

interface SearchFilters {
  q?: string;
  namespace?: string;
  attributes: [path: string, value: string][];
  segment?: string;
  updatedSince?: number;
  limit: number;
  after?: { updatedAt: number; id: string };
}

interface SearchRow {
  id: string;
  display_name: string | null;
  primary_namespace: string;
  primary_value: string;
  updated_at: number;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

/**
 * The profile viewer's search. Every condition is an indexed sub-select: identity values
 * by prefix (NOCASE index), name terms by prefix, exact attribute values (attribute_index),
 * segment members; newest first with a (updated_at, id) keyset cursor.
 */
export async function searchProfiles(d1: D1Database, f: SearchFilters): Promise<SearchRow[]> {
  const where: string[] = [];
  const binds: unknown[] = [];
  const bind = (value: unknown) => {
    binds.push(value);
    return `?${binds.length}`;
  };
  if (f.q) {
    const like = bind(`${escapeLike(f.q.trim())}%`);
    const identityMatch = f.namespace
      ? `SELECT profile_id FROM identities WHERE value LIKE ${like} ESCAPE '\\' AND namespace = ${bind(f.namespace)}`
      : `SELECT profile_id FROM identities WHERE value LIKE ${like} ESCAPE '\\'`;
    // Every word of the query prefixes one of the profile's name terms.
    const words = searchWords(f.q).slice(0, 8);
    const termMatch = words.length
      ? words
          .map(
            (w) =>
              `SELECT profile_id FROM profile_terms WHERE term >= ${bind(w)} AND term < ${bind(`${w}\uffff`)}`,
          )
          .join(" INTERSECT ")
      : undefined;
    where.push(
      `p.id IN (${termMatch ? `${identityMatch} UNION SELECT * FROM (${termMatch})` : identityMatch})`,
    );
  } else if (f.namespace) {
    where.push(
      `p.id IN (SELECT profile_id FROM identities WHERE namespace = ${bind(f.namespace)})`,
    );
  }
  for (const [path, value] of f.attributes) {
    where.push(
      path.startsWith(`${COMPUTED_DATASET}.`)
        ? // Computed values change with every event, so they are not in the attribute index:
          // their fragments are walked through a partial index (only profiles that have values).
          `p.id IN (SELECT i.profile_id FROM fragments f JOIN identities i ON i.id = f.identity_id, json_tree(f.attributes) t
                    WHERE f.dataset = '${COMPUTED_DATASET}' AND ${LEAF_PATH} = ${bind(path)} AND ${LEAF_VALUE} = ${bind(value)})`
        : `p.id IN (SELECT i.profile_id FROM attribute_index a JOIN identities i ON i.id = a.identity_id
                WHERE a.path = ${bind(path)} AND a.value = ${bind(value)})`,
    );
  }
  if (f.segment) {
    where.push(
      `p.id IN (SELECT profile_id FROM memberships WHERE segment_id = ${bind(f.segment)} AND status = 'realized')`,
    );
  }
  if (f.updatedSince !== undefined) where.push(`p.updated_at >= ${bind(f.updatedSince)}`);
  if (f.after)
    where.push(`(p.updated_at, p.id) < (${bind(f.after.updatedAt)}, ${bind(f.after.id)})`);
  const sql = `SELECT p.id, p.display_name, p.primary_namespace, p.primary_value, p.updated_at FROM profiles p
    ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY p.updated_at DESC, p.id DESC LIMIT ${bind(f.limit)}`;
  const { results } = await d1
    .prepare(sql)
    .bind(...binds)
    .all<SearchRow>();
  return results;
}

// ---- timeline ------------------------------------------------------------------------

interface TimelineFilters {
  type?: string;
  from?: number;
  to?: number;
  before?: { at: number; id: string };
  limit: number;
}

/** Events of every identity of the profile, newest first. */
export async function profileTimeline(
  d1: D1Database,
  profileId: string,
  f: TimelineFilters,
): Promise<(EventRow & { namespace: string; value: string })[]> {
  const where = ["e.identity_id IN (SELECT id FROM identities WHERE profile_id = ?1)"];
  const binds: unknown[] = [profileId];
  const bind = (value: unknown) => {
    binds.push(value);
    return `?${binds.length}`;
  };
  // +e.type: the profile's own events (identity index), not every event of the type.
  if (f.type) where.push(`+e.type = ${bind(f.type)}`);
  if (f.from !== undefined) where.push(`e.at >= ${bind(f.from)}`);
  if (f.to !== undefined) where.push(`e.at < ${bind(f.to)}`);
  if (f.before) where.push(`(e.at, e.id) < (${bind(f.before.at)}, ${bind(f.before.id)})`);
  const { results } = await d1
    .prepare(
      `SELECT e.id, e.type, e.at, e.dataset, e.identity_id, e.data, i.namespace, i.value FROM events e
       JOIN identities i ON i.id = e.identity_id
       WHERE ${where.join(" AND ")} ORDER BY e.at DESC, e.id DESC LIMIT ${bind(f.limit)}`,
    )
    .bind(...binds)
    .all<EventRow & { namespace: string; value: string }>();
  return results;
}

export async function profileExists(d1: D1Database, profileId: string): Promise<boolean> {
  return (
    (await d1.prepare("SELECT 1 AS ok FROM profiles WHERE id = ?1").bind(profileId).first()) !==
    null
  );
}

/**
 * Privacy erase: removes every trace of a profile's identities — identities, links,
 * fragments, attribute index rows, events, memberships, name terms, the profile row, and
 * graph history that names them — in one atomic batch.
 */
import { identityRemovalStatements } from "./identity-removal";
import { bulk } from "./json-chunks";

export interface EraseCounts {
  identities: number;
  fragments: number;
  events: number;
}

export async function countProfileData(
  d1: D1Database,
  identityIds: readonly number[],
): Promise<EraseCounts> {
  const ids = JSON.stringify(identityIds);
  const row = await d1
    .prepare(
      `SELECT (SELECT count(*) FROM fragments WHERE identity_id IN (SELECT value FROM json_each(?1))) AS fragments,
              (SELECT count(*) FROM events WHERE identity_id IN (SELECT value FROM json_each(?1))) AS events`,
    )
    .bind(ids)
    .first<{ fragments: number; events: number }>();
  return {
    identities: identityIds.length,
    fragments: row?.fragments ?? 0,
    events: row?.events ?? 0,
  };
}

/** History entries that mention any of `identityKeys` or concern `profileId`. */
export async function historyMentioning(
  d1: D1Database,
  profileId: string,
  identityKeys: readonly string[],
): Promise<{ id: number; identities: string[] }[]> {
  const { results } = await d1
    .prepare(
      `SELECT h.id, h.identities FROM graph_history h
       WHERE h.id IN (SELECT history_id FROM graph_history_profiles WHERE profile_id = ?1)
          OR EXISTS (SELECT 1 FROM json_each(h.identities) j WHERE j.value IN (SELECT value FROM json_each(?2)))`,
    )
    .bind(profileId, JSON.stringify(identityKeys))
    .all<{ id: number; identities: string }>();
  return results.map((r) => ({ id: r.id, identities: JSON.parse(r.identities) as string[] }));
}

export function eraseStatements(
  d1: D1Database,
  profileId: string,
  identityIds: readonly number[],
  historyIds: readonly number[],
): D1PreparedStatement[] {
  return [
    ...identityRemovalStatements(d1, identityIds),
    ...bulk(
      d1,
      `DELETE FROM graph_history_profiles WHERE history_id IN (SELECT value FROM json_each(?1))`,
      historyIds,
    ),
    ...bulk(
      d1,
      `DELETE FROM graph_history WHERE id IN (SELECT value FROM json_each(?1))`,
      historyIds,
    ),
    d1.prepare(`DELETE FROM memberships WHERE profile_id = ?1`).bind(profileId),
    d1.prepare(`DELETE FROM profile_terms WHERE profile_id = ?1`).bind(profileId),
    d1.prepare(`DELETE FROM profiles WHERE id = ?1`).bind(profileId),
  ];
}

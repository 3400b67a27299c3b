/** Reads for a visitor's context: a device's own data, and public segment memberships. */

export interface DeviceData {
  fragments: { dataset: string; attributes: string; updated_at: number }[];
  events: { type: string; at: number; data: string | null }[];
}

/** Only what the device identity itself holds — never its graph's other identities. */
export async function deviceOwnData(d1: D1Database, device: string, types: string[], since: number): Promise<DeviceData> {
  const id = `(SELECT id FROM identities WHERE namespace = 'device' AND value = ?1)`;
  const [fragments, events] = await d1.batch<Record<string, any>>([
    d1.prepare(`SELECT dataset, attributes, updated_at FROM fragments WHERE identity_id = ${id}`).bind(device),
    d1
      // +type: use the (identity_id, at) index, never a scan of every event of that type.
      .prepare(`SELECT type, at, data FROM events WHERE identity_id = ${id} AND +type IN (SELECT value FROM json_each(?2)) AND at >= ?3`)
      .bind(device, JSON.stringify(types), since),
  ]);
  return { fragments: fragments!.results as DeviceData["fragments"], events: events!.results as DeviceData["events"] };
}

export async function publicMemberships(d1: D1Database, profileId: string): Promise<string[]> {
  const { results } = await d1
    .prepare(
      `SELECT m.segment_id FROM memberships m JOIN segments s ON s.id = m.segment_id
       WHERE m.profile_id = ?1 AND m.status = 'realized' AND s.public = 1 ORDER BY m.segment_id`,
    )
    .bind(profileId)
    .all<{ segment_id: string }>();
  return results.map((r) => r.segment_id);
}

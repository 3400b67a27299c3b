/** Reads for a visitor's context: a device's own data, and public segment memberships. */

interface DeviceData {
  fragments: { dataset: string; attributes: string; updated_at: number }[];
  events: { type: string; at: number; data: string | null }[];
}

/** Only what the device identity itself holds — never its graph's other identities. */
export async function deviceOwnData(
  d1: D1Database,
  device: string,
  types: string[],
  since: number,
): Promise<DeviceData> {
  const id = `(SELECT id FROM identities WHERE namespace = 'device' AND value = ?1)`;
  const [fragments, events] = await d1.batch<Record<string, any>>([
    d1
      .prepare(`SELECT dataset, attributes, updated_at FROM fragments WHERE identity_id = ${id}`)
      .bind(device),
    d1
      // +type: use the (identity_id, at) index, never a scan of every event of that type.
      .prepare(
        `SELECT type, at, data FROM events WHERE identity_id = ${id} AND +type IN (SELECT value FROM json_each(?2)) AND at >= ?3`,
      )
      .bind(device, JSON.stringify(types), since),
  ]);
  return {
    fragments: fragments!.results as DeviceData["fragments"],
    events: events!.results as DeviceData["events"],
  };
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

interface DeviceLinkState {
  identityProfile: string;
  deviceProfile: string | null;
  /** The direct link's `lastSeen`, or null when there is none. */
  linkLastSeen: number | null;
}

/** Where a signed-in visitor's identity and device stand; undefined when the identity is new. */
export async function deviceLinkState(
  d1: D1Database,
  device: string,
  identity: { namespace: string; value: string },
): Promise<DeviceLinkState | undefined> {
  const row = await d1
    .prepare(
      // Links are stored once, with the smaller identity key first: look up both orders
      // by primary key (an OR in the join condition could scan).
      `SELECT i.profile_id AS identity_profile, d.profile_id AS device_profile,
              coalesce((SELECT last_seen FROM links WHERE a_id = i.id AND b_id = d.id),
                       (SELECT last_seen FROM links WHERE a_id = d.id AND b_id = i.id)) AS last_seen
       FROM identities i
       LEFT JOIN identities d ON d.namespace = 'device' AND d.value = ?3
       WHERE i.namespace = ?1 AND i.value = ?2`,
    )
    .bind(identity.namespace, identity.value, device)
    .first<{ identity_profile: string; device_profile: string | null; last_seen: number | null }>();
  return row
    ? {
        identityProfile: row.identity_profile,
        deviceProfile: row.device_profile,
        linkLastSeen: row.last_seen,
      }
    : undefined;
}

/** SQL for consent (SPEC §8): choices recorded per identity, read back newest first per purpose. */
import type { ConsentChoice } from "../../model/consent";
import { TOUCHED_PROFILES } from "./graph";
import { bulk, jsonColumns } from "./json-chunks";
import { type Read, rowsOf } from "./reads";

/** Each identity's newest choice per purpose, among the rows `identities` (a FROM source aliased m) selects. */
const latest = (identities: string, where: string) => `
  SELECT * FROM (
    SELECT m.namespace, m.value, m.profile_id, c.purpose, c.status, c.at, c.source,
           row_number() OVER (PARTITION BY c.identity_id, c.purpose ORDER BY c.at DESC, c.recorded_at DESC) AS rn
    FROM ${identities} JOIN consent_records c ON c.identity_id = m.id WHERE ${where}) WHERE rn = 1`;

export interface ChoiceRow extends ConsentChoice {
  namespace: string;
  value: string;
  profileId: string;
  purpose: string;
}

const parseChoices = (results: D1Result<Record<string, unknown>>[]): ChoiceRow[] =>
  rowsOf<{
    namespace: string;
    value: string;
    profile_id: string;
    purpose: string;
    status: "granted" | "denied";
    at: number;
    source: string;
  }>(results).map((r) => ({
    namespace: r.namespace,
    value: r.value,
    profileId: r.profile_id,
    purpose: r.purpose,
    status: r.status,
    at: r.at,
    source: r.source,
  }));

/** The choices of every identity of the profiles that hold any of `refs` (the write lane's load). */
export function touchedChoicesRead(
  d1: D1Database,
  refs: readonly { namespace: string; value: string }[],
): Read<ChoiceRow[]> {
  return {
    statements: bulk(
      d1,
      latest("identities m", `m.profile_id IN (${TOUCHED_PROFILES})`),
      refs.map((r) => [r.namespace, r.value]),
    ),
    parse: parseChoices,
  };
}

/** The choices of every identity of these profiles. */
export function profileChoicesRead(
  d1: D1Database,
  profileIds: readonly string[],
): Read<ChoiceRow[]> {
  return {
    statements: bulk(
      d1,
      latest("identities m", `m.profile_id IN (SELECT value FROM json_each(?1))`),
      profileIds,
    ),
    parse: parseChoices,
  };
}

/** The choices of every identity of the profile a device identity belongs to. */
export function deviceChoicesRead(d1: D1Database, device: string): Read<ChoiceRow[]> {
  return {
    statements: [
      d1
        .prepare(
          latest(
            "identities m",
            `m.profile_id = (SELECT profile_id FROM identities WHERE namespace = 'device' AND value = ?1)`,
          ),
        )
        .bind(device),
    ],
    parse: parseChoices,
  };
}

/** Rows: [identityId, purpose, at, status, source, recordedAt]. */
export function consentRecordStatements(
  d1: D1Database,
  rows: readonly unknown[][],
): D1PreparedStatement[] {
  return bulk(
    d1,
    `INSERT OR IGNORE INTO consent_records (identity_id, purpose, at, status, source, recorded_at) SELECT ${jsonColumns(6)} FROM json_each(?1)`,
    rows,
  );
}

/** Every choice of these identities, newest first (the access export's history). */
export async function consentHistory(d1: D1Database, identityIds: readonly number[]) {
  const { results } = await d1
    .prepare(
      `SELECT i.namespace, i.value, c.purpose, c.status, c.at, c.source, c.recorded_at FROM consent_records c JOIN identities i ON i.id = c.identity_id
       WHERE c.identity_id IN (SELECT value FROM json_each(?1)) ORDER BY c.at DESC, c.recorded_at DESC`,
    )
    .bind(JSON.stringify(identityIds))
    .all<{
      namespace: string;
      value: string;
      purpose: string;
      status: string;
      at: number;
      source: string;
      recorded_at: number;
    }>();
  return results;
}

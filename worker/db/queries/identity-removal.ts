/** SQL that removes identities, shared by graph deletes, erasure and retention expiry. */
import { attributeIndexRemoveForIdentities } from "./attribute-index";
import { bulk } from "./json-chunks";

/**
 * Removes identities with everything filed under them: attribute index entries, events,
 * fragments, computed rechecks, consent records, their links and the identity rows (an
 * erasure and a retention expiry both end this way; profiles and history are the caller's).
 */
export function identityRemovalStatements(
  d1: D1Database,
  identityIds: readonly number[],
): D1PreparedStatement[] {
  return [
    ...attributeIndexRemoveForIdentities(d1, identityIds),
    ...["events", "fragments", "computed_rechecks", "consent_records"].flatMap((table) =>
      bulk(
        d1,
        `DELETE FROM ${table} WHERE identity_id IN (SELECT value FROM json_each(?1))`,
        identityIds,
      ),
    ),
    ...bulk(
      d1,
      `DELETE FROM links WHERE a_id IN (SELECT value FROM json_each(?1)) OR b_id IN (SELECT value FROM json_each(?1))`,
      identityIds,
    ),
    ...bulk(
      d1,
      `DELETE FROM identities WHERE id IN (SELECT value FROM json_each(?1))`,
      identityIds,
    ),
  ];
}

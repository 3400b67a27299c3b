/**
 * The identity graph's plain shapes: what the engine (graph/workspace.ts) works on and what
 * the data layer (db/queries/) reads and writes. Types only, at the bottom of the layers.
 */

export interface IdentityState {
  key: string;
  namespace: string;
  value: string;
  /** D1 row id; undefined until the store allocates one. */
  id?: number;
  profileId: string;
  firstSeen: number;
  lastSeen: number;
}

export interface LinkState {
  /** Identity keys, `a < b`. */
  a: string;
  b: string;
  dataset: string;
  firstSeen: number;
  lastSeen: number;
  applied: boolean;
}

export type HistoryKind = "merge" | "split" | "move" | "evict" | "delete";
export type GraphCause = "ingest" | "identity.delete" | "link.delete" | "erase" | "config";

export interface HistoryEntry {
  at: number;
  kind: HistoryKind;
  cause: GraphCause;
  /** Identity keys (`email:john@luma.com`). */
  identities: string[];
  profiles: string[];
}

export interface IdentityRef {
  namespace: string;
  value: string;
}

/** A profile as it stands after the changes: its primary identity and size. */
export interface ProfileChange {
  id: string;
  primary: IdentityState;
  identityCount: number;
  /** Its identities' namespaces, sorted, comma-separated. */
  namespaces: string;
}

/**
 * What a workspace changed, as plain values for the data layer to write: identities and
 * links to upsert or delete, profiles that live on (with their primary identity) or were
 * retired, and the history entries, in order.
 */
export interface GraphChangeset {
  identities: IdentityState[];
  deletedIdentities: IdentityState[];
  links: LinkState[];
  deletedLinks: LinkState[];
  profiles: ProfileChange[];
  retiredProfiles: string[];
  history: HistoryEntry[];
}

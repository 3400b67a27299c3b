/**
 * How profiles, events, links and graph history are shown in API answers: one presenter
 * per thing, shared by the lookup, the timeline, the graph view, the segment member list,
 * search and the privacy export, so they cannot drift apart.
 */
import { toIso } from "../lib/time";

interface IdentityRef {
  namespace: string;
  id: string;
}

/** `email:ann@example.com` → `{ namespace: "email", id: "ann@example.com" }` (ids may hold colons). */
function splitKey(key: string): IdentityRef {
  const at = key.indexOf(":");
  return { namespace: key.slice(0, at), id: key.slice(at + 1) };
}

/** The few fields a list of profiles shows. */
export function profileSummary(row: {
  profile_id: string;
  display_name: string | null;
  primary_namespace: string;
  primary_value: string;
}) {
  return {
    profileId: row.profile_id,
    displayName: row.display_name ?? row.primary_value,
    primaryIdentity: { namespace: row.primary_namespace, id: row.primary_value },
  };
}

/** An event row (with its identity's namespace and value) as the API shows it. */
export function presentEvent(e: {
  id: string;
  type: string;
  at: number;
  dataset: string;
  namespace: string;
  value: string;
  data: string | null;
}) {
  return {
    id: e.id,
    type: e.type,
    timestamp: toIso(e.at),
    dataset: e.dataset,
    identity: { namespace: e.namespace, id: e.value },
    data: e.data ? (JSON.parse(e.data) as Record<string, unknown>) : null,
  };
}

/** A link between two identities of the graph; `identityById` names the ends. */
export function presentLink(
  l: {
    aId: number;
    bId: number;
    dataset: string;
    firstSeen: number;
    lastSeen: number;
    applied: boolean;
  },
  identityById: ReadonlyMap<number, IdentityRef>,
) {
  return {
    from: identityById.get(l.aId)!,
    to: identityById.get(l.bId)!,
    dataset: l.dataset,
    firstSeen: toIso(l.firstSeen),
    lastSeen: toIso(l.lastSeen),
    applied: l.applied,
  };
}

type HistoryKind = "merge" | "split" | "move" | "evict" | "delete";

/** One entry of a profile's graph history. */
export function presentHistory(h: {
  at: number;
  kind: string;
  cause: string;
  identities: string[];
  profiles: string[];
}) {
  return {
    at: toIso(h.at),
    kind: h.kind as HistoryKind,
    cause: h.cause,
    identities: h.identities.map(splitKey),
    profiles: h.profiles,
  };
}

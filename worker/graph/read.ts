/**
 * An identity's graph as the API answers it (`GET /v1/identities/:ns/:id/graph`): its
 * profile's identities, the links among them, the links a cap refused between them and
 * another profile's identities, and the graph's history.
 */
import type { Db } from "../db/client";
import {
  findIdentity,
  linksAmong,
  profileHistory,
  profileIdentities,
  refusedLinksOut,
} from "../db/queries/graph";
import { ApiError, orFail } from "../lib/errors";
import { toIso } from "../lib/time";
import type { Bindings } from "../model/bindings";
import { presentHistory, presentLink } from "../profiles/present";
import { loadIdentityConfig } from "./identity-config";
import { resolveIdentity } from "./identity-param";

/**
 * `authorize` sees the profile's identities (`ns:value`) before anything else is read: a
 * token restricted to one identity may read only its own profile's graph.
 */
export async function identityGraph(
  c: { env: Bindings; var: { db: Db } },
  namespace: string,
  id: string,
  authorize: (identities: string[]) => void,
) {
  const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
  const identity = await findIdentity(
    c.var.db.$client,
    orFail(resolveIdentity(config, namespace, id)),
  );
  if (!identity) throw new ApiError("not_found", `no identity ${namespace}:${id}`);
  const members = await profileIdentities(c.var.db.$client, identity.profileId);
  authorize(members.map((m) => `${m.namespace}:${m.value}`));
  const memberIds = members.map((m) => m.id);
  const [links, refused, history] = await Promise.all([
    linksAmong(c.var.db.$client, memberIds),
    refusedLinksOut(c.var.db.$client, memberIds, identity.profileId),
    profileHistory(c.var.db.$client, identity.profileId),
  ]);
  const byId = new Map(members.map((m) => [m.id, { namespace: m.namespace, id: m.value }]));
  for (const r of refused)
    byId.set(r.other.id, { namespace: r.other.namespace, id: r.other.value });
  return {
    profileId: identity.profileId,
    identities: members.map((m) => ({
      namespace: m.namespace,
      id: m.value,
      firstSeen: toIso(m.firstSeen),
      lastSeen: toIso(m.lastSeen),
    })),
    links: links.map((l) => presentLink(l, byId)),
    refusedLinks: refused.map((l) => ({
      ...presentLink(l, byId),
      applied: false as const,
      otherProfileId: l.other.profileId,
    })),
    history: history.map(presentHistory),
  };
}

/**
 * The access copy of a profile (SPEC: `GET …/export`): the merged profile, every fragment,
 * every event (up to a cap, then `eventsTruncated`), the links among its identities, its
 * graph history and every consent choice ever recorded.
 */
import type { Db } from "../db/client";
import { consentHistory } from "../db/queries/consent";
import { linksAmong, profileHistory } from "../db/queries/graph";
import { profileTimeline } from "../db/queries/profiles";
import { loadIdentityConfig } from "../graph/identity-config";
import { resolveIdentity } from "../graph/identity-param";
import { ApiError, orFail } from "../lib/errors";
import { toIso } from "../lib/time";
import type { Bindings } from "../model/bindings";
import { presentEvent, presentHistory, presentLink } from "../profiles/present";
import { fragmentsOf, readProfile } from "../profiles/service";

/** An access copy holds every event, up to this many (then `eventsTruncated`). */
const EXPORT_EVENT_CAP = 100_000;

export async function exportProfileData(
  c: { env: Bindings; var: { db: Db } },
  namespace: string,
  id: string,
) {
  const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
  const result = orFail(
    await readProfile(
      c.var.db,
      { identity: orFail(resolveIdentity(config, namespace, id)) },
      {
        include: new Set(["provenance", "segments"]),
        eventsLimit: 0,
      },
    ),
  );
  if (!result) throw new ApiError("not_found", `no identity ${namespace}:${id}`);
  const { bundle, profileId } = result;
  const events = [];
  let before: { at: number; id: string } | undefined;
  while (events.length < EXPORT_EVENT_CAP) {
    const page = await profileTimeline(c.var.db.$client, profileId, { before, limit: 1000 });
    events.push(...page);
    if (page.length < 1000) break;
    before = { at: page[page.length - 1]!.at, id: page[page.length - 1]!.id };
  }
  const identityById = new Map(
    bundle.identities.map((i) => [i.id, { namespace: i.namespace, id: i.value }]),
  );
  const identityIds = bundle.identities.map((i) => i.id);
  const [links, history, choices] = await Promise.all([
    linksAmong(c.var.db.$client, identityIds),
    profileHistory(c.var.db.$client, profileId, 1000),
    consentHistory(c.var.db.$client, identityIds),
  ]);
  return {
    profileId,
    document: {
      exportedAt: new Date().toISOString(),
      profile: result.body,
      fragments: fragmentsOf(bundle).map((f) => ({
        dataset: f.dataset,
        identity: { namespace: f.namespace, id: f.value },
        attributes: f.attributes,
        updatedAt: toIso(f.updatedAt),
      })),
      events: events.map(presentEvent),
      eventsTruncated: events.length >= EXPORT_EVENT_CAP,
      links: links.map((l) => presentLink(l, identityById)),
      history: history.map(presentHistory),
      // Every consent choice ever recorded, newest first (a change is a new record).
      consentHistory: choices.map((r) => ({
        identity: { namespace: r.namespace, id: r.value },
        purpose: r.purpose,
        status: r.status,
        at: toIso(r.at),
        source: r.source,
        recordedAt: toIso(r.recorded_at),
      })),
    },
  };
}

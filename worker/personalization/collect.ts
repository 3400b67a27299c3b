/**
 * `/v1/collect`: browser events for one device. Only the collectable types are taken, the
 * visitor's consent choices (and Sec-GPC) are recorded before the events, and every event
 * then needs the `analytics` purpose. The answer says nothing about the graph: no profile
 * ids reach a browser.
 */
import type { z } from "zod";
import { type CollectBody, DEFAULT_COLLECT_TYPES } from "../../shared/schemas/personalization";
import { getCachedSetting } from "../config/service";
import { fromBrowser } from "../consent/merge";
import { browserConsentItems, consentSettings } from "../consent/service";
import type { Db } from "../db/client";
import { ingestItems, validationContext } from "../ingest/service";
import type { Bindings } from "../model/bindings";

interface Visit {
  device: string;
  /** The events as parsed by the schema. */
  body: z.output<typeof CollectBody>;
  /** The events as sent: item validation sees every key (not zod's copy). */
  sent: Record<string, unknown>[];
  /** The page's Global Privacy Control signal. */
  gpc: boolean;
}

export async function collectEvents(c: { env: Bindings; var: { db: Db } }, visit: Visit) {
  const allowed = new Set(
    (await getCachedSetting(c.var.db, "collect"))?.types ?? DEFAULT_COLLECT_TYPES,
  );
  const receivedAt = Date.now();
  const [ctx, settings] = await Promise.all([
    validationContext(c.env, c.var.db, "events", receivedAt),
    consentSettings(c.var.db),
  ]);
  const before = browserConsentItems(
    settings,
    visit.device,
    visit.body.consent && fromBrowser(visit.body.consent),
    visit.gpc,
    receivedAt,
  );
  const rejected: { index: number; error: unknown }[] = [];
  const items = visit.body.events.flatMap((event, index) => {
    if (!allowed.has(event.type)) {
      rejected.push({
        index,
        error: {
          code: "type_not_allowed",
          message: `"${event.type}" is not a collectable event type`,
        },
      });
      return [];
    }
    const value = {
      ...visit.sent[index],
      dataset: "web",
      identities: [{ namespace: "device", id: visit.device }],
    };
    return [{ index, kind: "events" as const, value, requires: "analytics" }];
  });
  const { outcomes, cost } =
    items.length + before.length
      ? await ingestItems(c.env, ctx, items, { atomic: false, receivedAt, before })
      : { outcomes: [], cost: undefined };
  for (const o of outcomes)
    if (o.status === "rejected") rejected.push({ index: o.index, error: o.error });
  rejected.sort((a, b) => a.index - b.index);
  const ignored = outcomes.filter((o) => o.status === "ignored").length;
  return {
    answer: {
      accepted: outcomes.filter((o) => o.status === "accepted").length,
      duplicates: outcomes.filter((o) => o.status === "duplicate").length,
      rejected,
      ...(ignored ? { ignored, reason: "consent" as const } : {}),
    },
    consistency: cost?.consistency,
  };
}

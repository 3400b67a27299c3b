/**
 * `POST /v1/identities/simulate`: what items would do to the graph, or what a proposed
 * configuration would do to existing graphs — computed by the writer, nothing saved.
 */
import type { z } from "zod";
import type { IdentityInput } from "../../shared/schemas/ingest";
import { previewChange } from "../config/preview";
import type { Db } from "../db/client";
import { type IngestKind, ingestItems, validationContext } from "../ingest/service";
import { ApiError, orFail } from "../lib/errors";
import type { Bindings } from "../model/bindings";
import { loadIdentityConfig } from "./identity-config";
import { resolveIdentity } from "./identity-param";
import type { ConfigProposal } from "./proposed";

interface Simulation {
  items?: unknown[] | undefined;
  config?: ConfigProposal | undefined;
  scope?:
    | {
        identities?: z.output<typeof IdentityInput>[] | undefined;
        namespace?: string | undefined;
        limit?: number | undefined;
      }
    | undefined;
}

export async function simulate(c: { env: Bindings; var: { db: Db } }, body: Simulation) {
  if (body.items && body.config)
    throw new ApiError("invalid_request", "simulate items or a configuration, one at a time", {
      details: [{ path: "config", message: "not with items" }],
    });
  if (body.config) {
    const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
    const identities = (body.scope?.identities ?? []).map((i, n) =>
      orFail(resolveIdentity(config, i.namespace, i.id, `scope.identities[${n}]`)),
    );
    return previewChange(c, body.config, {
      ...body.scope,
      identities: identities.length ? identities : undefined,
    });
  }
  if (!body.items)
    throw new ApiError("invalid_request", "give the items or the configuration to simulate", {
      details: [{ path: "items", message: "required without config" }],
    });
  const receivedAt = Date.now();
  const ctx = await validationContext(c.env, c.var.db, "items", receivedAt);
  const raw = body.items.map((value, index) => ({
    index,
    kind: (value && typeof value === "object" && "type" in value
      ? "events"
      : "records") as IngestKind,
    value,
  }));
  const { outcomes, effect } = await ingestItems(c.env, ctx, raw, {
    atomic: false,
    receivedAt,
    dryRun: true,
  });
  const rejected = outcomes.flatMap((o) =>
    o.status === "rejected" ? [{ index: o.index, error: o.error }] : [],
  );
  if (rejected.length)
    throw new ApiError("invalid_request", `${rejected.length} item(s) are not valid`, {
      details: rejected.map((r) => ({
        path: `items[${r.index}]`,
        message: `${r.error.code}: ${r.error.message}`,
      })),
    });
  return effect!;
}

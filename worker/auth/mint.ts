/**
 * `POST /v1/tokens`: a short-lived API token, never with more scopes than its minter, and
 * optionally restricted to one identity's profile (normalized like any identity).
 */
import type { z } from "zod";
import type { TokenBody } from "../../shared/schemas/personalization";
import { grants, isScope } from "../../shared/scopes";
import type { Db } from "../db/client";
import type { Principal } from "../env";
import { loadIdentityConfig } from "../graph/identity-config";
import { resolveIdentity } from "../graph/identity-param";
import { ApiError, orFail } from "../lib/errors";
import type { Bindings } from "../model/bindings";
import { mintApiToken } from "./tokens";

export async function mintToken(
  c: { env: Bindings; var: { db: Db } },
  minter: Principal,
  body: z.output<typeof TokenBody>,
) {
  const unknown = body.scopes.findIndex((s) => !isScope(s));
  if (unknown >= 0)
    throw new ApiError("invalid_request", `unknown scope "${body.scopes[unknown]}"`, {
      details: [{ path: `scopes[${unknown}]`, message: "not a scope" }],
    });
  const beyond = body.scopes.filter((s) => isScope(s) && !grants(minter.scopes, s));
  if (beyond.length > 0)
    throw new ApiError(
      "forbidden",
      `a token never has more scopes than its minter (not granted: ${beyond.join(", ")})`,
    );
  let identity: string | undefined;
  if (body.identity) {
    const config = await loadIdentityConfig(c.var.db, c.env.TESSERA_PHONE_REGION);
    const ref = orFail(
      resolveIdentity(config, body.identity.namespace, body.identity.id, "identity.id"),
    );
    identity = `${ref.namespace}:${ref.value}`;
  }
  const { token, claims } = await mintApiToken(
    c.env,
    {
      sub: minter.keyId,
      scp: body.scopes.filter(isScope),
      ...(identity ? { idn: identity } : {}),
    },
    body.ttlSeconds,
  );
  return {
    token,
    tokenId: claims.jti,
    scopes: claims.scp,
    identity: identity
      ? {
          namespace: identity.slice(0, identity.indexOf(":")),
          id: identity.slice(identity.indexOf(":") + 1),
        }
      : null,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
  };
}

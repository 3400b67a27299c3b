/**
 * Signed JWTs (HS256, via hono/jwt):
 * - API tokens minted by `POST /v1/tokens` (signed with a key derived from TESSERA_SECRET);
 * - identity tokens that a site's own back end signs with its public key's site secret.
 */
import { sign, verify } from "hono/jwt";
import { isScope, type Scope } from "../../shared/scopes";
import type { Bindings } from "../model/bindings";
import { base64url, hmacSha256, serverSecret, siteSecretFor } from "./signing";

const ISSUER = "tessera";

async function tokenSigningKey(env: Bindings): Promise<string> {
  return base64url(await hmacSha256(serverSecret(env), "api-tokens"));
}

interface ApiTokenClaims {
  /** The minting key's id. */
  sub: string;
  scp: Scope[];
  /** Optional: the one identity (`ns:value`) whose profile the token may read. */
  idn?: string;
  jti: string;
  iat: number;
  exp: number;
}

export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

export async function mintApiToken(
  env: Bindings,
  claims: Omit<ApiTokenClaims, "iat" | "jti" | "exp">,
  ttlSeconds: number,
) {
  const iat = Math.floor(Date.now() / 1000);
  const payload = { ...claims, iss: ISSUER, jti: crypto.randomUUID(), iat, exp: iat + ttlSeconds };
  return { token: await sign(payload, await tokenSigningKey(env), "HS256"), claims: payload };
}

/** The token's claims, or undefined when it is forged, expired or malformed. */
export async function verifyApiToken(
  env: Bindings,
  token: string,
): Promise<ApiTokenClaims | undefined> {
  try {
    const p = await verify(token, await tokenSigningKey(env), { alg: "HS256", iss: ISSUER });
    if (
      typeof p.sub !== "string" ||
      typeof p.exp !== "number" ||
      !Array.isArray(p.scp) ||
      typeof p.jti !== "string"
    )
      return undefined;
    return {
      sub: p.sub,
      scp: (p.scp as string[]).filter(isScope),
      idn: typeof p.idn === "string" ? p.idn : undefined,
      jti: p.jti,
      iat: Number(p.iat),
      exp: p.exp,
    };
  } catch {
    return undefined;
  }
}

/**
 * A visitor's identity from an identity token signed with the public key's site secret:
 * `sub` is an identity like `crm:123`; `exp` is required. Undefined when invalid.
 */
export async function verifyIdentityToken(
  env: Bindings,
  publicKeyId: string,
  token: string,
): Promise<string | undefined> {
  if (!looksLikeJwt(token)) return undefined;
  try {
    const p = await verify(token, await siteSecretFor(env, publicKeyId), "HS256");
    if (typeof p.exp !== "number" || typeof p.sub !== "string" || !p.sub.includes(":"))
      return undefined;
    return p.sub;
  } catch {
    return undefined;
  }
}

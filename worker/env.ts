/** The app's Hono environment: the bindings, and what the middleware puts on each request. */
import type { Scope } from "../shared/scopes";
import type { Db } from "./db/client";
import type { Bindings } from "./model/bindings";

/** Who is calling: resolved once per request by the auth middleware. */
export interface Principal {
  /** Key id (`key_…`), or `admin` for the TESSERA_ADMIN_KEY secret; for a token, its minter's. */
  keyId: string;
  kind: "secret" | "public" | "token";
  scopes: Scope[];
  origins: string[];
  /** Tokens: the token's id, and the one identity (`ns:value`) it may read, if restricted. */
  tokenId?: string;
  identity?: string;
  /** Tracking API mapping of the key (SPEC §2 Tracking API). */
  tracking?: { userIdNamespace?: string; dataset?: string };
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    db: Db;
    principal: Principal;
  };
}

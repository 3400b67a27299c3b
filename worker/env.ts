import type { Scope } from "../shared/scopes";
import type { Db } from "./db/client";

/** Bindings from wrangler.toml (generated `Env`) plus the secrets wrangler cannot see. */
export interface Bindings extends Env {
  /** The first admin key (SPEC: `TESSERA_ADMIN_KEY`); `.dev.vars` locally, a secret in production. */
  TESSERA_ADMIN_KEY?: string;
  /** Derives site secrets and signs tokens (falls back to TESSERA_ADMIN_KEY when unset). */
  TESSERA_SECRET?: string;
  /** Allow http:// and local webhook URLs (local development; `npm start` sets it). */
  TESSERA_WEBHOOK_ALLOW_INSECURE?: string;
  /** A DNS-over-HTTPS JSON endpoint: webhook and export hosts are resolved and refused if internal. */
  TESSERA_DNS_RESOLVER?: string;
  /** Tests only: multiplies webhook retry delays and the 24 h retry window. */
  TESSERA_WEBHOOK_BACKOFF_SCALE?: string;
  /** Bench only (`npm run bench`): milliseconds added to every D1 round trip. */
  TESSERA_BENCH_D1_DELAY_MS?: string;
  /**
   * `d1` keeps the graph's truth in D1 for a deployment that has not chosen yet (tests of
   * that mode); once the writer keeps it in its own SQLite, it always does.
   */
  TESSERA_GRAPH_STORE?: string;
}

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

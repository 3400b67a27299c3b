/**
 * The Worker's environment as every layer sees it: what wrangler.toml binds (the generated
 * global `Env`) plus the secrets and switches wrangler cannot see. A plain type at the
 * bottom, so domain code can name its bindings without importing the app's HTTP types.
 */
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
  /** Bench only (`--only scale`): lane time per item, and delay per call between objects. */
  TESSERA_BENCH_ITEM_MS?: string;
  TESSERA_BENCH_RPC_MS?: string;
  /**
   * `d1` keeps the graph's truth in D1 for a deployment that has not chosen yet (tests of
   * that mode); once the writer keeps it in its own SQLite, it always does.
   */
  TESSERA_GRAPH_STORE?: string;
  /** Owner shards of a new deployment (default 1); a deployment keeps the count it started with. */
  TESSERA_SHARDS?: string;
}

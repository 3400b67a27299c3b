/**
 * One webhook destination's lane (SPEC §5: "each destination has its own queue position,
 * concurrency and time-out"): a Durable Object per destination, named by it. The queue
 * consumer hands it delivery ids and returns at once; the lane keeps them in its own SQLite
 * and sends them from its alarm, so a receiver that hangs for the full time-out holds only
 * this object. The deliveries themselves stay in D1 (status, attempts, next attempt): the
 * lane's list is only what to look at next, and the cron sweep refills it after a crash.
 */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../model/bindings";
import { type Reachability, sendDestination } from "./send";

/** Deliveries looked at per alarm pass. */
const PASS = 200;

export class WebhookLane extends DurableObject<Bindings> {
  private reachability: Reachability | undefined;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS due (id TEXT PRIMARY KEY, queued_at INTEGER NOT NULL)",
    );
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS lane (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    );
  }

  /** Adds ids to this destination's list (a repeat is ignored) and makes sure a pass is coming. */
  async enqueue(destination: string, ids: readonly string[]): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT OR REPLACE INTO lane (key, value) VALUES ('destination', ?)", destination);
    const now = Date.now();
    for (const id of ids)
      sql.exec("INSERT OR IGNORE INTO due (id, queued_at) VALUES (?, ?)", id, now);
    const at = Math.max(now, this.reachability?.until ?? 0);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const destination = sql
      .exec<{ value: string }>("SELECT value FROM lane WHERE key = 'destination'")
      .toArray()[0]?.value;
    if (!destination) return;
    const ids = sql
      .exec<{ id: string }>("SELECT id FROM due ORDER BY queued_at, id LIMIT ?", PASS)
      .toArray()
      .map((r) => r.id);
    if (ids.length === 0) return;
    const result = await sendDestination(this.env, destination, ids, this.reachability);
    this.reachability = result.reachability;
    const waiting = new Set(result.waiting);
    for (const id of ids) if (!waiting.has(id)) sql.exec("DELETE FROM due WHERE id = ?", id);
    const left = sql.exec<{ n: number }>("SELECT count(*) AS n FROM due").one().n;
    if (left > 0)
      await this.ctx.storage.setAlarm(
        waiting.size > 0 && this.reachability ? this.reachability.until : Date.now(),
      );
  }
}

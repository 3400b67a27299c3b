import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";
import { applyIngest, type IngestApplied } from "../ingest/apply";
import type { IngestCommand } from "../ingest/types";
import { eraseProfile, type EraseReceipt } from "../privacy/erase";
import { runRechecks, runSegmentPage, type SegmentJob } from "../segments/jobs";
import { deleteIdentity, deleteLink, type DeleteResult } from "./operations";
import type { GraphRules, IdentityRef } from "./workspace";

/**
 * The single writer of the identity graph (SPEC rule 6: concurrency never loses a link).
 *
 * D1 has no interactive transactions, and a graph change is read → compute → write. Every
 * such change therefore runs here, in one Durable Object, strictly one after another: a
 * call's reads and its one atomic `batch()` never interleave with another call's, so any
 * set of concurrent ingests ends exactly as some sequential order of them would.
 * (A Durable Object does not block other requests while it awaits D1, hence the explicit
 * queue below.) D1 itself has one writer, so this costs little throughput.
 */
export class GraphWriter extends DurableObject<Bindings> {
  private tail: Promise<unknown> = Promise.resolve();

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  ingest(command: IngestCommand, rules: GraphRules): Promise<IngestApplied> {
    return this.exclusive(() => applyIngest(this.env, command, rules));
  }

  deleteIdentity(ref: IdentityRef, rules: GraphRules): Promise<DeleteResult> {
    return this.exclusive(() => deleteIdentity(this.env, ref, rules));
  }

  deleteLink(from: IdentityRef, to: IdentityRef, rules: GraphRules): Promise<DeleteResult> {
    return this.exclusive(() => deleteLink(this.env, from, to, rules));
  }

  erase(ref: IdentityRef, suppress: boolean): Promise<EraseReceipt | undefined> {
    return this.exclusive(() => eraseProfile(this.env, ref, suppress));
  }

  /** Memberships are written here too, so they never race an ingest of the same profile. */
  segmentPage(job: SegmentJob): Promise<SegmentJob | undefined> {
    return this.exclusive(() => runSegmentPage(this.env, job));
  }

  rechecks(now: number): Promise<number> {
    return this.exclusive(() => runRechecks(this.env, now));
  }
}

/** The one GraphWriter instance. */
export function graphWriter(env: Bindings): DurableObjectStub<GraphWriter> {
  return env.GRAPH_WRITER.get(env.GRAPH_WRITER.idFromName("identity-graph"));
}

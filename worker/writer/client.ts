/**
 * How Worker code reaches the writer: `graphWriter(env)`, which answers `GraphWriterApi`
 * (in `types.ts`). This and `types.ts` are all that code outside `worker/writer/` imports.
 *
 * The API lists what callers may use. The façade's test seams (`hooks`, `journal`) are
 * deliberately left out: tests reach them through `runInDurableObject`.
 */
import type { Bindings } from "../model/bindings";
import type { GraphWriter } from "./writer";

/** The Durable Object class, for `runInDurableObject` in tests and the Worker's exports. */
export type { GraphWriter };

/** The one GraphWriter instance (the class implements `GraphWriterApi`). */
export function graphWriter(env: Bindings): DurableObjectStub<GraphWriter> {
  return env.GRAPH_WRITER.get(env.GRAPH_WRITER.idFromName("identity-graph"));
}

import { createApp } from "./app";
import { handleBatchQueue, type BatchMessage } from "./batches/process";
import type { Bindings } from "./env";

export { GraphWriter } from "./graph/writer";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleBatchQueue(batch as MessageBatch<BatchMessage>, env),
} satisfies ExportedHandler<Bindings>;

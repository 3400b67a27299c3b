import { createApp } from "./app";
import type { Bindings } from "./env";
import { handleQueue, handleScheduled } from "./jobs";

export { GraphWriter } from "./writer/writer";
export { WebhookLane } from "./webhooks/lane";
export { ReadGate } from "./reports/gate";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;

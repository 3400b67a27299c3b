import { createApp } from "./app";
import { handleQueue, handleScheduled } from "./jobs";
import type { Bindings } from "./model/bindings";

export { ReadGate } from "./reports/gate";
export { WebhookLane } from "./webhooks/lane";
export { GraphCoordinator } from "./writer/coordinator";
export { GraphWriter } from "./writer/writer";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Bindings>;

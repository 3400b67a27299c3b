import { createApp } from "./app";
import type { Bindings } from "./env";

export { GraphWriter } from "./graph/writer";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;

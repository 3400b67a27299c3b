import type { VisitorContext } from "./context";

/** Fired by `tessera-personalize` once the visitor's context is known (or failed to load). */
export class TesseraContextEvent extends Event {
  readonly context: VisitorContext | undefined;

  constructor(context: VisitorContext | undefined) {
    super("tessera-context", { bubbles: true, composed: true });
    this.context = context;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    "tessera-context": TesseraContextEvent;
  }
}

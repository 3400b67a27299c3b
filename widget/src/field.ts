import { ContextConsumer } from "@lit/context";
import { LitElement } from "lit";
import { readPath, visitorContext } from "./context";
import { defineElement } from "./define";

/**
 * Shows one allow-listed attribute of the visitor's context as text (never HTML).
 *
 * @attr path - dotted attribute path, e.g. `firstName` or `loyalty.tier`
 * @attr fallback - text shown when the attribute is absent
 */
export class TesseraField extends LitElement {
  static override properties = {
    path: { type: String },
    fallback: { type: String },
  };

  declare path: string;
  declare fallback: string;

  private readonly consumer = new ContextConsumer(this, {
    context: visitorContext,
    subscribe: true,
  });

  constructor() {
    super();
    this.path = "";
    this.fallback = "";
  }

  protected override createRenderRoot() {
    return this;
  }

  protected override render() {
    const value = readPath(this.consumer.value?.value?.attributes, this.path);
    const shown =
      value === undefined || value === null || typeof value === "object"
        ? this.fallback
        : String(value);
    // A string in a Lit text position is always a text node.
    return shown;
  }
}

defineElement("tessera-field", TesseraField);

declare global {
  interface HTMLElementTagNameMap {
    "tessera-field": TesseraField;
  }
}

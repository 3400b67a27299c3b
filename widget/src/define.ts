/**
 * Registers a custom element unless the tag is taken: an embed may be loaded twice on
 * one page (two snippets, two versions), and a second `define` would throw.
 */
export function defineElement(tag: string, element: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, element);
}

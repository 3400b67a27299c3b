/**
 * The one set of design tokens of both front-end packages: the embeddable widget
 * (`widget/src`, `public/widget.js`) and the admin console (`widget/console`,
 * `public/console.js`). A page themes either by setting the public `--tessera-*` custom
 * properties; components read only the private `--_*` names defined here, so every
 * colour has one default, in this file, and no component or view carries a hex value.
 *
 * @cssproperty --tessera-font - font family
 * @cssproperty --tessera-card-bg - background of cards and panels
 * @cssproperty --tessera-card-fg - text colour
 * @cssproperty --tessera-muted - secondary text (labels, hints)
 * @cssproperty --tessera-accent - links, buttons, chips, applied graph links, the first series
 * @cssproperty --tessera-border - borders and rules
 * @cssproperty --tessera-denied - errors, denied consent, refused graph links
 * @cssproperty --tessera-ok - confirmations
 * @cssproperty --tessera-subtle-bg - code blocks
 * @cssproperty --tessera-on-accent - text on accent-coloured buttons
 * @cssproperty --tessera-field-border - borders of inputs and buttons
 * @cssproperty --tessera-chrome-bg - the console's header bar (and known identities in the graph picture)
 * @cssproperty --tessera-chrome-fg - text on the header bar
 * @cssproperty --tessera-chrome-muted - tab names on the header bar
 * @cssproperty --tessera-chrome-selected - the selected tab
 * @cssproperty --tessera-chrome-border - buttons on the header bar
 * @cssproperty --tessera-node-other - identities of another profile in the graph picture
 * @cssproperty --tessera-series-1 - chart series colours, `-1` to `-6`
 * @cssproperty --tessera-card-radius - corner radius of cards and panels
 */
import { css } from "lit";

/** Chart series colours, in order (uPlot draws on a canvas, so it needs the values). */
const SERIES_DEFAULTS = ["#1f5f9e", "#c2571a", "#2d7d46", "#7b3fa0", "#a3262a", "#5b636e"];

export const tokens = css`
  :host {
    --_font: var(--tessera-font, system-ui, sans-serif);
    --_bg: var(--tessera-card-bg, #fff);
    --_fg: var(--tessera-card-fg, #1b1f24);
    --_muted: var(--tessera-muted, #5b636e);
    --_accent: var(--tessera-accent, #1f5f9e);
    --_on-accent: var(--tessera-on-accent, #fff);
    --_border: var(--tessera-border, #d9dde3);
    --_field-border: var(--tessera-field-border, #b9c2cc);
    --_denied: var(--tessera-denied, #a3262a);
    --_ok: var(--tessera-ok, #1d6b34);
    --_subtle-bg: var(--tessera-subtle-bg, #f4f6f8);
    --_chrome-bg: var(--tessera-chrome-bg, #15324f);
    --_chrome-fg: var(--tessera-chrome-fg, #fff);
    --_chrome-muted: var(--tessera-chrome-muted, #cfe0f2);
    --_chrome-selected: var(--tessera-chrome-selected, #2a5680);
    --_chrome-border: var(--tessera-chrome-border, #5d7d9c);
    --_node-other: var(--tessera-node-other, #9aa5b1);
    --_radius: var(--tessera-card-radius, 10px);
  }
  :host([theme="dark"]) {
    --_bg: var(--tessera-card-bg, #1d2127);
    --_fg: var(--tessera-card-fg, #e8ebef);
    --_muted: var(--tessera-muted, #a3acb8);
    --_accent: var(--tessera-accent, #7cb8f2);
    --_border: var(--tessera-border, #39404a);
    --_denied: var(--tessera-denied, #ff9d94);
  }
`;

/** The chart series colours for `element`: `--tessera-series-1` … `-6`, else the defaults. */
export function seriesColors(element: Element): string[] {
  const style = getComputedStyle(element);
  return SERIES_DEFAULTS.map(
    (fallback, i) => style.getPropertyValue(`--tessera-series-${i + 1}`).trim() || fallback,
  );
}

/** Pieces every console view shares: styles, the bar chart, the "how to ingest" panel. */
import { css, html, svg, type TemplateResult } from "lit";
import { tokens } from "../tokens";

export const viewStyles = [
  tokens,
  css`
  :host { display: block; }
  .grid { display: grid; grid-template-columns: 300px 1fr; gap: 20px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 16px; margin-bottom: 16px; }
  .panel { background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 14px 16px; margin-bottom: 16px; }
  .big { font-size: 28px; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; border-bottom: 1px solid var(--_border); padding: 6px 8px; font-size: 13px; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  input, select, button.action { font: inherit; padding: 6px 10px; border: 1px solid var(--_field-border); border-radius: 6px; }
  button.action { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); cursor: pointer; }
  ul.results { list-style: none; padding: 0; margin: 8px 0; }
  ul.results button { width: 100%; text-align: left; background: var(--_bg); border: 1px solid var(--_border); border-radius: 6px; padding: 6px 10px; margin-bottom: 6px; cursor: pointer; font: inherit; }
  ul.results button[aria-current="true"] { border-color: var(--_accent); }
  pre { background: var(--_subtle-bg); padding: 10px; border-radius: 6px; overflow: auto; font-size: 12px; }
  .error { color: var(--_denied); }
  .muted { color: var(--_muted); }
  .builder { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; }
  .builder label { display: flex; flex-direction: column; font-size: 12px; color: var(--_muted); gap: 2px; }
  fieldset { border: 1px solid var(--_border); border-radius: 6px; display: flex; flex-wrap: wrap; gap: 8px; font-size: 13px; }
  textarea { font: 12px/1.4 ui-monospace, monospace; padding: 6px 8px; border: 1px solid var(--_field-border); border-radius: 6px; width: 100%; box-sizing: border-box; }
  .ok { color: var(--_ok); }
  .secret code { word-break: break-all; }
  svg.graph-picture { max-width: 420px; display: block; }
  svg .applied { stroke: var(--_accent); }
  svg .refused { stroke: var(--_denied); }
  svg .bar { fill: var(--_accent); }
  svg circle.known { fill: var(--_chrome-bg); }
  svg circle.other { fill: var(--_node-other); }
  progress { width: 240px; }
  /* A phone: one column, and wide tables scroll inside their panel instead of the page. */
  @media (max-width: 700px) {
    .grid { grid-template-columns: 1fr; }
    table { display: block; overflow-x: auto; }
    .builder { flex-direction: column; align-items: stretch; }
    progress { width: 100%; }
  }
`,
];

/** A labelled horizontal bar chart as SVG (values are rendered as text, never markup). */
export function bars(rows: [string, number][], label: string): TemplateResult {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const height = rows.length * 26 + 4;
  return html`<svg role="img" aria-label=${label} viewBox="0 0 480 ${height}" width="100%" height=${height}>
    ${rows.map(
      ([name, value], i) => svg`
        <text x="0" y=${i * 26 + 17} font-size="12" fill="currentColor">${name}</text>
        <rect x="110" y=${i * 26 + 4} width=${Math.max(1, (value / max) * 300)} height="18" rx="3" class="bar"></rect>
        <text x=${116 + (value / max) * 300} y=${i * 26 + 17} font-size="12" fill="currentColor">${value}</text>`,
    )}
  </svg>`;
}

export function howToIngest(): TemplateResult {
  const origin = location.origin;
  return html`<div class="panel">
    <h2>No profiles yet</h2>
    <p>Send an event with your key, or import a file:</p>
    <pre>curl ${origin}/v1/events -H "authorization: Bearer &lt;your key&gt;" -H "content-type: application/json" \\
  -d '{"type":"page.view","identities":[{"namespace":"email","id":"jane@example.com"}]}'</pre>
    <pre>npx tessera import examples/customers.csv --dataset crm --endpoint ${origin} --key &lt;your key&gt;</pre>
  </div>`;
}

/** What a tab shows while its data loads (a slow API never leaves it blank). */
export const loading = () => html`<p class="muted" role="status">Loading…</p>`;

/** A form field's trimmed value. */
export const fieldText = (form: HTMLFormElement, name: string) =>
  (
    (
      form.elements.namedItem(name) as
        | HTMLInputElement
        | HTMLSelectElement
        | HTMLTextAreaElement
        | null
    )?.value ?? ""
  ).trim();

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
export const failed = (err: unknown) => html`<p class="error" role="alert">${errorText(err)}</p>`;

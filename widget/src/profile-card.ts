import { Task } from "@lit/task";
import { css, html, LitElement, nothing } from "lit";
import type { z } from "zod";
import type { ProfileSchema } from "../../shared/schemas/profiles";
import { tokens } from "../tokens";
import { defineElement } from "./define";
import { summarizeEvent } from "./event-summary";
import { formatTime, langOf, type Strings, stringsFor } from "./i18n";

/** What `GET /v1/profiles/by-identity/…` answers: the API's own type (a type-only import; no zod in the bundle). */
type Profile = z.infer<typeof ProfileSchema>;

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** Leaf paths of an attribute tree, with values shown as text. */
function leaves(tree: Record<string, unknown>, prefix = ""): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      out.push(...leaves(value as Record<string, unknown>, path));
    else out.push([path, Array.isArray(value) ? value.join(", ") : String(value)]);
  }
  return out;
}

/**
 * A support agent's view of one customer: name, primary identity, identities by
 * namespace, key attributes with provenance (hover or keyboard focus), segment chips and
 * recent activity. Every value is rendered as text, never as HTML.
 *
 * @attr endpoint - base URL of the Tessera Worker (default: this page's origin)
 * @attr token - a token or key with `profiles:read` (minted for the agent's browser)
 * @attr identity - who to show, e.g. `email:john@luma.com`
 * @attr layout - `full` (default) or `compact`
 * @attr theme - `light`, `dark`, or unset to follow the system
 * @attr lang - `en` (default) or `nl`
 *
 * @csspart header - name and primary identity
 * @csspart identities - identities grouped by namespace
 * @csspart attributes - attribute list
 * @csspart segments - segment chips
 * @csspart events - recent activity
 * @csspart state - loading, error, not-found and empty messages
 *
 * @cssprop --tessera-font - font family
 * @cssprop --tessera-card-bg - background
 * @cssprop --tessera-card-fg - text colour
 * @cssprop --tessera-muted - secondary text colour
 * @cssprop --tessera-accent - accent (chips, focus ring)
 * @cssprop --tessera-denied - a denied consent purpose
 * @cssprop --tessera-card-radius - corner radius
 * @cssprop --tessera-border - border colour
 */
export class TesseraProfileCard extends LitElement {
  static override properties = {
    endpoint: { type: String },
    token: { type: String },
    identity: { type: String },
    layout: { type: String, reflect: true },
    theme: { type: String, reflect: true },
  };

  static override styles = [
    tokens,
    css`
    :host {
      display: block;
      font: 14px/1.45 var(--_font);
      color: var(--_fg);
      background: var(--_bg);
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      padding: 16px;
      max-width: 560px;
    }
    h2 { margin: 0; font-size: 18px; }
    h3 { margin: 14px 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--_muted); }
    .primary, .muted { color: var(--_muted); }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
    dd.denied { color: var(--_denied); }
    dt { color: var(--_muted); position: relative; cursor: help; border-radius: 3px; }
    dd { margin: 0; overflow-wrap: anywhere; }
    dt:focus-visible, button:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
    [role="tooltip"] { display: none; position: absolute; left: 0; top: 100%; z-index: 1; white-space: nowrap;
      background: var(--_fg); color: var(--_bg); padding: 4px 8px; border-radius: 4px; font-size: 12px; }
    dt:hover [role="tooltip"], dt:focus [role="tooltip"] { display: block; }
    ul { list-style: none; padding: 0; margin: 0; }
    .chips li { display: inline-block; margin: 0 6px 6px 0; padding: 2px 10px; border-radius: 999px;
      border: 1px solid var(--_accent); color: var(--_accent); font-size: 12px; }
    .events .summary { color: var(--_muted); }
    .events li { display: flex; justify-content: space-between; gap: 12px; border-top: 1px solid var(--_border); padding: 4px 0; }
    :host([layout="compact"]) [part="events"], :host([layout="compact"]) [part="identities"] { display: none; }
    button { font: inherit; color: var(--_accent); background: none; border: 1px solid var(--_accent); border-radius: 6px; padding: 2px 10px; cursor: pointer; }
  `,
  ];

  declare endpoint: string;
  declare token: string;
  declare identity: string;
  declare layout: string;
  declare theme: string | undefined;

  private readonly profile = new Task(this, {
    task: async ([endpoint, token, identity], { signal }) => {
      const at = identity.indexOf(":");
      if (at <= 0) throw new HttpError(404);
      const path = `/v1/profiles/by-identity/${encodeURIComponent(identity.slice(0, at))}/${encodeURIComponent(identity.slice(at + 1))}`;
      const url = new URL(
        `${path}?include=provenance,segments,events&events.limit=8`,
        endpoint || location.origin,
      );
      const response = await fetch(url, {
        signal,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (!response.ok) throw new HttpError(response.status);
      return (await response.json()) as Profile;
    },
    args: () => [this.endpoint, this.token, this.identity] as const,
  });

  constructor() {
    super();
    this.endpoint = "";
    this.token = "";
    this.identity = "";
    this.layout = "full";
  }

  override connectedCallback() {
    super.connectedCallback();
    if (!this.hasAttribute("role")) this.setAttribute("role", "region");
  }

  private state(message: unknown, extra: unknown = nothing) {
    return html`<p part="state" role="status">${message}${extra}</p>`;
  }

  private renderProfile(p: Profile, t: Strings) {
    this.setAttribute("aria-label", p.displayName);
    const byNamespace = new Map<string, string[]>();
    for (const i of p.identities)
      byNamespace.set(i.namespace, [...(byNamespace.get(i.namespace) ?? []), i.id]);
    // Computed attributes first ("12 orders, 1840 lifetime value" is what an agent looks for), each under its name.
    const all = leaves(p.attributes);
    const computed = (path: string) => p.provenance?.[path]?.dataset === "computed";
    const attributes = [
      ...all.filter(([path]) => computed(path)),
      ...all.filter(([path]) => !computed(path)),
    ].slice(0, this.layout === "compact" ? 6 : 24);
    const segments = (p.segments ?? []).filter((s) => s.status === "realized");
    const events = p.events ?? [];
    const empty = attributes.length === 0 && events.length === 0;
    return html`
      <div part="header">
        <h2>${p.displayName}</h2>
        <div class="primary">${p.primaryIdentity.namespace}: ${p.primaryIdentity.id}</div>
      </div>
      <section part="identities" aria-label=${t.identities}>
        <h3>${t.identities}</h3>
        <dl>${[...byNamespace].map(([ns, ids]) => html`<dt>${ns}</dt><dd>${ids.join(", ")}</dd>`)}</dl>
      </section>
      ${empty ? this.state(t.empty) : nothing}
      ${
        attributes.length
          ? html`<section part="attributes" aria-label=${t.attributes}>
            <h3>${t.attributes}</h3>
            <dl>
              ${attributes.map(([path, value], i) => {
                const source = p.provenance?.[path];
                const origin = !source
                  ? ""
                  : source.dataset === "computed"
                    ? `${t.computedFrom} ${source.events ?? 0} ${t.eventsCounted} ${t.at} ${formatTime(source.computedAt ?? source.timestamp, this)}`
                    : `${t.from} ${source.dataset} (${source.identity.namespace}: ${source.identity.id}) ${t.at} ${formatTime(source.timestamp, this)}`;
                return html`<dt tabindex="0" aria-describedby="prov-${i}">${source?.name ?? path}
                    <span role="tooltip" id="prov-${i}">${origin}</span></dt
                  ><dd>${value}</dd>`;
              })}
            </dl>
          </section>`
          : nothing
      }
      ${
        segments.length
          ? html`<section part="segments" aria-label=${t.segments}>
            <h3>${t.segments}</h3>
            <ul class="chips">${segments.map((s) => html`<li>${s.name}</li>`)}</ul>
          </section>`
          : nothing
      }
      ${
        p.consent && this.layout !== "compact"
          ? html`<section part="consent" aria-label=${t.consent}>
            <h3>${t.consent}</h3>
            <dl>
              ${Object.entries(p.consent).map(
                ([
                  purpose,
                  c,
                ]) => html`<dt>${purpose}</dt><dd class=${c.status}>${c.status === "granted" ? t.consentGranted : t.consentDenied}
                    <span class="muted">${c.at ? `${c.source}, ${formatTime(c.at, this)}` : t.byDefault}</span></dd>`,
              )}
            </dl>
          </section>`
          : nothing
      }
      ${
        this.layout === "compact" || empty
          ? nothing
          : html`<section part="events" aria-label=${t.events}>
            <h3>${t.events}</h3>
            ${
              events.length
                ? html`<ul class="events">${events.map((e) => {
                    const summary = summarizeEvent(e.data, langOf(this));
                    return html`<li><span>${e.type}${summary ? html` <span class="summary">${summary}</span>` : nothing}</span><time datetime=${e.timestamp} class="muted">${formatTime(e.timestamp, this)}</time></li>`;
                  })}</ul>`
                : html`<p class="muted">${t.noEvents}</p>`
            }
          </section>`
      }
    `;
  }

  protected override render() {
    const t = stringsFor(this);
    return this.profile.render({
      pending: () => this.state(t.loading),
      complete: (p) => this.renderProfile(p, t),
      error: (err) => {
        const status = err instanceof HttpError ? err.status : 0;
        if (status === 404) return this.state(`${t.notFound} ${this.identity}`);
        // 401: the token itself is not valid (expired, or for another profile); 403: valid, not allowed.
        if (status === 401) return this.state(t.expired);
        if (status === 403) return this.state(t.denied);
        return this.state(
          t.error,
          html` <button @click=${() => this.profile.run()}>${t.retry}</button>`,
        );
      },
    });
  }
}

defineElement("tessera-profile-card", TesseraProfileCard);

declare global {
  interface HTMLElementTagNameMap {
    "tessera-profile-card": TesseraProfileCard;
  }
}

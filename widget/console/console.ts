import { LitElement, css, html, nothing, svg, type TemplateResult } from "lit";
import { defineElement } from "../src/define";

/**
 * The admin console (`/console`): profile viewer, dashboard, batches, segments,
 * destinations (webhook deliveries and failures), reports.
 * The admin key is entered once and kept in sessionStorage (gone when the tab closes).
 * Every value from the API is rendered as text.
 */
type Tab = "profiles" | "dashboard" | "batches" | "segments" | "destinations" | "reports";
const TABS: [Tab, string][] = [
  ["profiles", "Profiles"],
  ["dashboard", "Dashboard"],
  ["batches", "Batches"],
  ["segments", "Segments"],
  ["destinations", "Destinations"],
  ["reports", "Reports"],
];
const KEY_STORAGE = "tessera.console.key";

type Json = any;

/** A labelled horizontal bar chart as SVG. */
function bars(rows: [string, number][], label: string): TemplateResult {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const height = rows.length * 26 + 4;
  return html`<svg role="img" aria-label=${label} viewBox="0 0 480 ${height}" width="100%" height=${height}>
    ${rows.map(
      ([name, value], i) => svg`
        <text x="0" y=${i * 26 + 17} font-size="12" fill="currentColor">${name}</text>
        <rect x="110" y=${i * 26 + 4} width=${Math.max(1, (value / max) * 300)} height="18" rx="3" fill="#1f5f9e"></rect>
        <text x=${116 + (value / max) * 300} y=${i * 26 + 17} font-size="12" fill="currentColor">${value}</text>`,
    )}
  </svg>`;
}

export class TesseraConsole extends LitElement {
  static override properties = {
    key: { state: true },
    tab: { state: true },
    data: { state: true },
    error: { state: true },
    selected: { state: true },
  };

  static override styles = css`
    :host { display: block; font: 14px/1.5 system-ui, sans-serif; color: #1b1f24; }
    header { display: flex; gap: 16px; align-items: center; padding: 12px 20px; background: #15324f; color: #fff; }
    header strong { font-size: 16px; }
    nav button { background: none; border: 0; color: #cfe0f2; font: inherit; padding: 6px 10px; border-radius: 6px; cursor: pointer; }
    nav button[aria-selected="true"] { background: #2a5680; color: #fff; }
    main { padding: 20px; max-width: 1100px; margin: 0 auto; }
    .grid { display: grid; grid-template-columns: 300px 1fr; gap: 20px; }
    .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 16px; }
    .panel { background: #fff; border: 1px solid #dde2e8; border-radius: 10px; padding: 14px 16px; }
    .big { font-size: 28px; font-weight: 600; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; border-bottom: 1px solid #e6e9ee; padding: 6px 8px; font-size: 13px; }
    input, button.action { font: inherit; padding: 6px 10px; border: 1px solid #b9c2cc; border-radius: 6px; }
    button.action { background: #1f5f9e; color: #fff; border-color: #1f5f9e; cursor: pointer; }
    ul.results { list-style: none; padding: 0; margin: 8px 0; }
    ul.results button { width: 100%; text-align: left; background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 6px 10px; margin-bottom: 6px; cursor: pointer; font: inherit; }
    ul.results button[aria-current="true"] { border-color: #1f5f9e; }
    pre { background: #f4f6f8; padding: 10px; border-radius: 6px; overflow: auto; font-size: 12px; }
    .error { color: #a3262a; }
    .muted { color: #5b636e; }
  `;

  declare key: string;
  declare tab: Tab;
  declare data: Json;
  declare error: string;
  declare selected: Json;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.key = sessionStorage.getItem(KEY_STORAGE) ?? "";
    this.tab = "profiles";
    this.data = undefined;
    this.error = "";
    this.selected = undefined;
  }

  override connectedCallback() {
    super.connectedCallback();
    if (this.key) void this.load();
  }

  private async api(path: string, init: RequestInit = {}): Promise<Json> {
    const response = await fetch(path, { ...init, headers: { authorization: `Bearer ${this.key}`, ...(init.headers ?? {}) } });
    if (response.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      this.key = "";
      throw new Error("That key is not valid.");
    }
    if (!response.ok) {
      const body: Json = await response.json().catch(() => undefined);
      throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
    }
    return response.headers.get("content-type")?.includes("json") ? response.json() : response.text();
  }

  private load(tab: Tab = this.tab) {
    clearTimeout(this.searchTimer);
    this.tab = tab;
    this.data = undefined;
    this.selected = undefined;
    return this.attempt(async () => {
      if (tab === "destinations") {
        // Each webhook destination with its recent deliveries (failures first in view).
        const list: Json = await this.api("/v1/destinations");
        const items = await Promise.all(
          (list.items as Json[]).map(async (d) => (d.config?.type === "webhook" ? { ...d, deliveries: (await this.api(`/v1/destinations/${encodeURIComponent(d.name)}/deliveries?limit=20`)).items } : d)),
        );
        if (this.tab === tab) this.data = { items };
        return;
      }
      let path: string;
      if (tab === "reports") {
        const to = new Date();
        const from = new Date(to.getTime() - 30 * 86_400_000);
        path = `/v1/reports/messages?from=${from.toISOString().slice(0, 10)}&to=${to.toISOString().slice(0, 10)}&groupBy=day`;
      } else {
        path = { profiles: "/v1/profiles?limit=20", dashboard: "/v1/metrics/profiles", batches: "/v1/batches?limit=50", segments: "/v1/segments" }[tab];
      }
      const value = await this.api(path);
      // A slow answer for a tab the user has left must not land in another tab's view.
      if (this.tab === tab) this.data = value;
    });
  }

  private signIn(event: SubmitEvent) {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem("key") as HTMLInputElement;
    this.key = input.value.trim();
    sessionStorage.setItem(KEY_STORAGE, this.key);
    void this.load();
  }

  private search(q: string) {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.attempt(async () => {
      const value = await this.api(`/v1/profiles?limit=20${q ? `&q=${encodeURIComponent(q)}` : ""}`);
      if (this.tab === "profiles") this.data = value;
    }), 200);
  }

  /** Runs an action, showing its failure in the console instead of losing it. */
  private async attempt(action: () => Promise<void>) {
    try {
      this.error = "";
      await action();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  private open(item: Json) {
    return this.attempt(async () => {
      const identity = `${item.primaryIdentity.namespace}:${item.primaryIdentity.id}`;
      const path = `/v1/identities/${encodeURIComponent(item.primaryIdentity.namespace)}/${encodeURIComponent(item.primaryIdentity.id)}/graph`;
      const [graph, timeline] = await Promise.all([this.api(path), this.api(`/v1/profiles/${item.profileId}/events?limit=25`)]);
      this.selected = { item, identity, graph, timeline };
    });
  }

  private downloadErrors(batchId: string) {
    return this.attempt(async () => {
      const text = await this.api(`/v1/batches/${batchId}/errors`);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
      link.download = `${batchId}.errors.ndjson`;
      link.click();
    });
  }

  private howToIngest() {
    const origin = location.origin;
    return html`<div class="panel">
      <h2>No profiles yet</h2>
      <p>Send an event with your key, or import a file:</p>
      <pre>curl ${origin}/v1/events -H "authorization: Bearer &lt;your key&gt;" -H "content-type: application/json" \\
  -d '{"type":"page.view","identities":[{"namespace":"email","id":"jane@example.com"}]}'</pre>
      <pre>npx tessera import customers.csv --dataset crm --endpoint ${origin} --key &lt;your key&gt;</pre>
    </div>`;
  }

  private renderProfiles() {
    const items: Json[] = this.data?.items ?? [];
    return html`<div class="grid">
      <div>
        <label for="q">Search profiles</label><br />
        <input id="q" type="search" placeholder="name, e-mail, phone, id…" @input=${(e: InputEvent) => this.search((e.target as HTMLInputElement).value)} />
        <ul class="results">
          ${items.map(
            (p) => html`<li><button aria-current=${this.selected?.item.profileId === p.profileId ? "true" : "false"} @click=${() => this.open(p)}>
                <strong>${p.displayName}</strong><br /><span class="muted">${p.primaryIdentity.namespace}: ${p.primaryIdentity.id}</span>
              </button></li>`,
          )}
        </ul>
        ${this.data && items.length === 0 ? html`<p class="muted">No matches.</p>` : nothing}
      </div>
      <div>
        ${this.selected
          ? html`<tessera-profile-card identity=${this.selected.identity} token=${this.key}></tessera-profile-card>
              <div class="panel">
                <h3>Identity graph</h3>
                <table>
                  <thead><tr><th>from</th><th>to</th><th>dataset</th><th>last seen</th><th>applied</th></tr></thead>
                  <tbody>${this.selected.graph.links.map(
                    (l: Json) => html`<tr><td>${l.from.namespace}: ${l.from.id}</td><td>${l.to.namespace}: ${l.to.id}</td><td>${l.dataset}</td><td>${l.lastSeen}</td><td>${l.applied ? "yes" : "kept, not applied"}</td></tr>`,
                  )}</tbody>
                </table>
                <h3>History</h3>
                <ul>${this.selected.graph.history.map((h: Json) => html`<li>${h.at} — ${h.kind}: ${h.identities.map((i: Json) => `${i.namespace}:${i.id}`).join(", ")}</li>`)}</ul>
                <h3>Timeline</h3>
                <ul>${this.selected.timeline.items.map((e: Json) => html`<li>${e.timestamp} — ${e.type} <span class="muted">(${e.dataset})</span></li>`)}</ul>
              </div>`
          : html`<p class="muted">Search and pick a profile to see its card, graph and timeline.</p>`}
      </div>
    </div>`;
  }

  private renderDashboard() {
    const m = this.data;
    if (!m) return nothing;
    if (m.total === 0) return this.howToIngest();
    return html`<div class="cards">
        <div class="panel"><div class="muted">Profiles</div><div class="big">${m.total}</div></div>
        <div class="panel"><div class="muted">Added, last 7 / 30 days</div><div class="big">${m.added.last7d} / ${m.added.last30d}</div></div>
        <div class="panel"><div class="muted">Merges, last 7 / 30 days</div><div class="big">${m.merges.last7d} / ${m.merges.last30d}</div></div>
      </div>
      <div class="cards">
        <div class="panel"><h3>Profiles by namespace</h3>${bars(Object.entries(m.byNamespace) as [string, number][], "Profiles by namespace")}</div>
        <div class="panel"><h3>Graph sizes (identities per profile)</h3>${bars(m.graphSizes.map((g: Json) => [g.identities, g.profiles]), "Graph sizes")}</div>
        <div class="panel"><h3>Identity overlap</h3>${bars(m.identityOverlap.slice(0, 8).map((o: Json) => [o.namespaces.join(" + "), o.profiles]), "Identity overlap")}</div>
      </div>`;
  }

  private renderBatches() {
    const items: Json[] = this.data?.items ?? [];
    if (this.data && items.length === 0) return this.howToIngest();
    return html`<table>
      <thead><tr><th>batch</th><th>dataset</th><th>status</th><th>rows</th><th>ingested</th><th>failed</th><th>uploaded</th><th></th></tr></thead>
      <tbody>${items.map(
        (b) => html`<tr><td>${b.batchId}</td><td>${b.dataset}</td><td>${b.status}</td><td>${b.rows.total}</td><td>${b.rows.ingested}</td><td>${b.rows.failed}</td><td>${b.createdAt}</td>
          <td>${b.rows.failed ? html`<button class="action" @click=${() => this.downloadErrors(b.batchId)}>Errors</button>` : nothing}</td></tr>`,
      )}</tbody>
    </table>`;
  }

  private renderSegments() {
    const items: Json[] = this.data?.items ?? [];
    return html`<div class="panel">
      <h3>Segment sizes</h3>
      ${items.length ? bars(items.map((s) => [s.id, s.size ?? 0]), "Segment sizes") : html`<p class="muted">No segments yet: PUT /v1/segments/:id.</p>`}
      <table>
        <thead><tr><th>id</th><th>name</th><th>public</th><th>status</th><th>members</th></tr></thead>
        <tbody>${items.map((s) => html`<tr><td>${s.id}</td><td>${s.name}</td><td>${s.public ? "yes" : "no"}</td><td>${s.status}</td><td>${s.size ?? 0}</td></tr>`)}</tbody>
      </table>
    </div>`;
  }

  private renderDestinations() {
    const items: Json[] = this.data?.items ?? [];
    if (!items.length) return html`<p class="muted">No destinations yet: PUT /v1/destinations/:name (r2, s3, azure or webhook).</p>`;
    return html`${items.map((d) => {
      const deliveries: Json[] | undefined = d.deliveries;
      const failing = (deliveries ?? []).filter((x) => x.status === "failed" || x.status === "dead").length;
      return html`<div class="panel destination">
        <h3>${d.name} <span class="muted">${d.config?.type}${d.config?.url ? ` → ${d.config.url}` : ""}</span></h3>
        ${deliveries === undefined
          ? html`<p class="muted">Schedule: ${d.config?.schedule ?? "manual"}; last run ${d.lastRunAt ?? "never"}.</p>`
          : html`<p>${deliveries.length} recent deliveries${failing ? html`, <strong class="error">${failing} failing</strong>` : nothing}.</p>
              <table>
                <thead><tr><th>created</th><th>event</th><th>profile</th><th>status</th><th>attempts</th><th>last error</th></tr></thead>
                <tbody>${deliveries.map((x) => html`<tr><td>${x.createdAt}</td><td>${x.type}</td><td>${x.profileId}</td><td>${x.status}</td><td>${x.attempts}</td><td>${x.lastError ?? ""}</td></tr>`)}</tbody>
              </table>`}
      </div>`;
    })}`;
  }

  private renderReports() {
    const rows: Json[] = this.data?.items ?? [];
    if (!rows.length) return html`<p class="muted">No message events in the last 30 days.</p>`;
    return html`<div class="panel">
      <h3>Messages sent per day (first attempts)</h3>
      ${bars(rows.map((r) => [`${r.key}${r.complete ? "" : " (partial)"}`, r.sent]), "Messages sent per day")}
      <table>
        <thead><tr><th>day</th><th>sent</th><th>retries</th><th>delivered</th><th>bounced</th><th>opened</th><th>clicked</th><th>complete</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr><td>${r.key}</td><td>${r.sent}</td><td>${r.retries}</td><td>${r.delivered}</td><td>${r.bounced}</td><td>${r.opened}</td><td>${r.clicked}</td><td>${r.complete ? "yes" : "no"}</td></tr>`)}</tbody>
      </table>
    </div>`;
  }

  protected override render() {
    if (!this.key) {
      return html`<header><strong>Tessera console</strong></header>
        <main><form class="panel" @submit=${this.signIn}>
          <label for="key">Admin key (kept for this tab only)</label><br />
          <input id="key" name="key" type="password" autocomplete="off" required size="48" />
          <button class="action" type="submit">Open console</button>
          ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
          <p class="muted">Running locally? <code>npm start</code> printed the key; it is also in <code>.dev.vars</code>.</p>
        </form></main>`;
    }
    const view = { profiles: () => this.renderProfiles(), dashboard: () => this.renderDashboard(), batches: () => this.renderBatches(), segments: () => this.renderSegments(), destinations: () => this.renderDestinations(), reports: () => this.renderReports() }[this.tab];
    return html`<header>
        <strong>Tessera console</strong>
        <nav role="tablist">${TABS.map(([id, label]) => html`<button role="tab" aria-selected=${this.tab === id ? "true" : "false"} @click=${() => this.load(id)}>${label}</button>`)}</nav>
      </header>
      <main role="tabpanel">${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}${view()}</main>`;
  }
}

defineElement("tessera-console", TesseraConsole);

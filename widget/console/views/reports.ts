import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { ConsoleApi } from "../api";
import { bars, errorText, failed, loading } from "../ui";
import "../time-chart";
import { ConsoleView } from "./view";

/** A data view and a report as the API answers them. */
type DataView = NonNullable<ConsoleReports["views"]["value"]>[number];
/** (The route also answers CSV text; the report task asks for JSON.) */
type Report = Extract<NonNullable<ConsoleReports["report"]["value"]>, { items: unknown }>;
type ReportQuery = { from: string; to: string; tz: string; dimension: string; metrics: string };

const DAY = 86_400_000;
const RANGES: [number, string][] = [
  [7, "Last 7 days"],
  [30, "Last 30 days"],
  [90, "Last 90 days"],
];
const WINDOWS = ["P1D", "P3D", "P7D", "P14D", "P30D"];

/** YYYY-MM-DD of a day `daysAgo` before today, in the chosen zone. */
function dayInZone(daysAgo: number, tz: string): string {
  const today = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) - daysAgo * DAY).toISOString().slice(0, 10);
}

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
/** Numbers as people read them: thousands separators, at most three decimals. */
const formatNumber = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : v.toLocaleString(undefined, { maximumFractionDigits: 3 });
/** "deliveryRate" → "delivery rate": metric ids as words. */
const label = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
/** The local day (YYYY-MM-DD) of an instant in the report's zone. */
const localDay = (ms: number, tz: string) =>
  new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(ms));
/** The days a report covers, in its own zone: its range ends at the midnight after its last day. */
const rangeHeading = (r: { from: string; to: string; tz: string }) =>
  `${localDay(Date.parse(r.from), r.tz)} – ${localDay(Date.parse(r.to) - 1, r.tz)}`;

/**
 * @summary The report builder: a data view, a date range ending yesterday (today is partial), a
 * time zone, a dimension and metrics; a chart, the table and a CSV download. Over the journeys
 * view it also attributes conversions to journeys.
 *
 * @tag tessera-console-reports
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleReports extends ConsoleView {
  static override properties = {
    viewId: { state: true },
    days: { state: true },
    tz: { state: true },
    dimension: { state: true },
    chosen: { state: true },
    conversion: { state: true },
    model: { state: true },
    window: { state: true },
    downloadError: { state: true },
  };
  declare viewId: string;
  declare days: number;
  declare tz: string;
  declare dimension: string;
  declare chosen: string[];
  declare conversion: string;
  declare model: string;
  declare window: string;
  declare downloadError: string;

  constructor() {
    super();
    this.viewId = "journeys";
    this.days = 7;
    this.tz = browserZone();
    this.dimension = "";
    this.chosen = [];
    this.conversion = "purchase";
    this.model = "last";
    this.window = "P7D";
    this.downloadError = "";
  }

  readonly views = new Task(this, {
    task: (_, { signal }) =>
      this.api
        .read(this.api.client.v1["data-views"].$get(undefined, { init: { signal } }))
        .then((r) => r.items),
    args: () => [],
  });

  private get view(): DataView | undefined {
    return this.views.value?.find((v) => v.id === this.viewId);
  }

  private get metricIds(): string[] {
    const v = this.view;
    return v ? [...v.metrics.map((m) => m.id), ...(v.calculated ?? []).map((c) => c.id)] : [];
  }

  /** The report's request, as text so the Task re-runs only when it changes; undefined until the view is known. */
  private get query(): string | undefined {
    const v = this.view;
    if (!v) return undefined;
    const dimension = this.dimension || v.dimensions[0]!.id;
    const metrics = this.chosen.length
      ? this.chosen.filter((m) => this.metricIds.includes(m))
      : this.metricIds.slice(0, 4);
    const query: ReportQuery = {
      from: dayInZone(this.days, this.tz),
      to: dayInZone(1, this.tz),
      tz: this.tz,
      dimension,
      metrics: metrics.join(","),
    };
    return JSON.stringify({ id: v.id, query });
  }

  private reportCall(request: string, format: "json" | "csv", init: RequestInit = {}) {
    const { id, query } = JSON.parse(request) as { id: string; query: ReportQuery };
    return this.api.client.v1["data-views"][":id"].report.$get(
      { param: { id }, query: { ...query, format } },
      { init },
    );
  }

  readonly report = new Task(this, {
    task: ([query], { signal }) =>
      query
        ? this.api.read(this.reportCall(query, "json", { signal }))
        : Promise.resolve(undefined),
    args: () => [this.query] as const,
  });

  private readonly attribution = new Task(this, {
    task: ([viewId, days, tz, conversion, model, window], { signal }) => {
      if (viewId !== "journeys" || !conversion) return Promise.resolve(undefined);
      const query = {
        from: dayInZone(days, tz),
        to: dayInZone(1, tz),
        tz,
        conversion,
        model: model as "first" | "last" | "linear",
        window,
        value: "data.amount",
      };
      return this.api.read(
        this.api.client.v1.reports.journeys.$get({ query }, { init: { signal } }),
      );
    },
    args: () =>
      [this.viewId, this.days, this.tz, this.conversion, this.model, this.window] as const,
  });

  private async downloadCsv() {
    try {
      this.downloadError = "";
      const query = this.query;
      if (!query) return;
      const csv = await this.api.text(this.reportCall(query, "csv"));
      ConsoleApi.download(
        csv,
        "text/csv",
        `${this.viewId}-${this.dimension || this.view!.dimensions[0]!.id}.csv`,
      );
    } catch (err) {
      this.downloadError = errorText(err);
    }
  }

  private setZone(tz: string) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
      this.tz = tz;
      this.downloadError = "";
    } catch {
      this.downloadError = `Unknown time zone "${tz}": use an IANA name like Europe/Amsterdam.`;
    }
  }

  private toggleMetric(id: string, on: boolean) {
    const current = this.chosen.length ? this.chosen : this.metricIds.slice(0, 4);
    this.chosen = on ? [...new Set([...current, id])] : current.filter((m) => m !== id);
  }

  private renderControls(views: DataView[]) {
    const v = this.view;
    const active = this.chosen.length ? this.chosen : this.metricIds.slice(0, 4);
    return html`<form class="builder panel" @submit=${(e: Event) => e.preventDefault()}>
      <label>Data view
        <select id="view" @change=${(e: Event) => {
          this.viewId = (e.target as HTMLSelectElement).value;
          this.dimension = "";
          this.chosen = [];
        }}>
          ${views.map((x) => html`<option value=${x.id} ?selected=${x.id === this.viewId}>${x.name}</option>`)}
        </select>
      </label>
      <label>Date range (to yesterday)
        <select id="range" @change=${(e: Event) => (this.days = Number((e.target as HTMLSelectElement).value))}>
          ${RANGES.map(([d, label]) => html`<option value=${d} ?selected=${d === this.days}>${label}</option>`)}
        </select>
      </label>
      <label>Time zone
        <input id="tz" .value=${this.tz} size="18" @change=${(e: Event) => this.setZone((e.target as HTMLInputElement).value.trim() || "UTC")} />
      </label>
      <label>Group by
        <select id="dimension" @change=${(e: Event) => (this.dimension = (e.target as HTMLSelectElement).value)}>
          ${(v?.dimensions ?? []).map((d) => html`<option value=${d.id} ?selected=${d.id === (this.dimension || v!.dimensions[0]!.id)}>${d.id} (${d.field})</option>`)}
        </select>
      </label>
      <fieldset><legend>Metrics</legend>
        ${this.metricIds.map((id) => html`<label><input type="checkbox" name="metric" value=${id} .checked=${active.includes(id)} @change=${(e: Event) => this.toggleMetric(id, (e.target as HTMLInputElement).checked)} /> ${id}</label>`)}
      </fieldset>
      <button class="action" type="button" @click=${() => this.downloadCsv()}>Download CSV</button>
    </form>`;
  }

  /** Whether a dimension of the current view is a time grain (drawn as a series, not bars). */
  private isTime(dimension: string) {
    return (
      this.view?.dimensions.find((d) => d.id === dimension)?.field.startsWith("time.") ?? false
    );
  }

  private renderReport(r: Report) {
    const first = r.metrics[0] ?? "";
    return html`<div class="panel report">
      <h3>${label(first)} by ${r.dimension} <span class="muted">${rangeHeading(r)} (${r.tz})${r.complete ? "" : ", includes a partial day"}</span></h3>
      ${
        !r.items.length
          ? html`<p class="muted">No data in this range.</p>`
          : this.isTime(r.dimension)
            ? html`<tessera-time-chart
              .data=${{ keys: r.items.map((i) => i.key), series: r.metrics.map((m) => ({ label: label(m), values: r.items.map((i) => i.values[m] ?? null) })) }}
              label=${`${r.metrics.map(label).join(", ")} by ${r.dimension}, ${rangeHeading(r)}`}
            ></tessera-time-chart>`
            : bars(
                r.items.map((i) => [
                  `${i.key}${i.complete ? "" : " (partial)"}`,
                  Number(i.values[first] ?? 0),
                ]),
                `${first} by ${r.dimension}`,
              )
      }
      <table>
        <thead><tr><th>${r.dimension}</th>${r.metrics.map((m: string) => html`<th class="num">${label(m)}</th>`)}<th>complete</th></tr></thead>
        <tbody>${r.items.map((i) => html`<tr><td>${i.key}</td>${r.metrics.map((m: string) => html`<td class="num">${formatNumber(i.values[m])}</td>`)}<td>${i.complete ? "yes" : "no"}</td></tr>`)}</tbody>
        <tfoot><tr><th>Total</th>${r.metrics.map((m: string) => html`<th class="num">${formatNumber(r.totals[m])}</th>`)}<th></th></tr></tfoot>
      </table>
      ${r.truncated ? html`<p class="muted">Showing the top ${r.items.length} by ${first}.</p>` : nothing}
    </div>`;
  }

  private renderAttribution() {
    return html`<div class="panel attribution">
      <h3>Conversions attributed to journeys</h3>
      <form class="builder" @submit=${(e: Event) => e.preventDefault()}>
        <label>Conversion event <input id="conversion" .value=${this.conversion} @change=${(e: Event) => (this.conversion = (e.target as HTMLInputElement).value.trim())} /></label>
        <label>Model
          <select id="model" @change=${(e: Event) => (this.model = (e.target as HTMLSelectElement).value)}>
            ${["first", "last", "linear"].map((m) => html`<option value=${m} ?selected=${m === this.model}>${m}</option>`)}
          </select>
        </label>
        <label>Window
          <select id="window" @change=${(e: Event) => (this.window = (e.target as HTMLSelectElement).value)}>
            ${WINDOWS.map((w) => html`<option value=${w} ?selected=${w === this.window}>${w}</option>`)}
          </select>
        </label>
      </form>
      ${this.attribution.render({
        pending: loading,
        complete: (a) =>
          a
            ? html`<table>
                <thead><tr><th>journey</th><th class="num">delivered</th><th class="num">clicked</th><th class="num">conversions</th><th class="num">value</th></tr></thead>
                <tbody>${a.items.map((i) => html`<tr><td>${i.journey}</td><td class="num">${formatNumber(i.delivered)}</td><td class="num">${formatNumber(i.clicked)}</td><td class="num">${formatNumber(i.conversions)}</td><td class="num">${formatNumber(i.conversionValue)}</td></tr>`)}</tbody>
              </table>
              <p class="muted">${a.totals.conversions} conversions, ${a.totals.unattributedConversions} with no journey message in the window.</p>`
            : nothing,
        error: failed,
      })}
    </div>`;
  }

  protected override render() {
    return this.views.render({
      pending: loading,
      complete: (views) => html`${this.renderControls(views)}
        ${this.downloadError ? html`<p class="error" role="alert">${this.downloadError}</p>` : nothing}
        ${this.report.render({ pending: loading, complete: (r) => (r && typeof r === "object" && "items" in r ? this.renderReport(r) : nothing), error: failed })}
        ${this.viewId === "journeys" ? this.renderAttribution() : nothing}`,
      error: failed,
    });
  }
}

defineElement("tessera-console-reports", ConsoleReports);

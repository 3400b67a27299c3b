/**
 * @summary A time series drawn with uPlot (console bundle only; the widget's budget is untouched):
 * one line per metric over the report's days, weeks or months, axes with thousands
 * separators, values on hover. The table under it says the same in text, for screen
 * readers and copying.
 *
 * @tag tessera-time-chart
 *
 * @cssproperty --tessera-series-1 - the first series' colour (`-2` … `-6` the next ones)
 */
import { css, html, LitElement, type PropertyValues, unsafeCSS } from "lit";
import uPlot from "uplot";
import uPlotCss from "uplot/dist/uPlot.min.css";
import { defineElement } from "../src/define";
import { seriesColors } from "../tokens";

interface TimeSeries {
  /** Bucket keys: YYYY-MM-DD (a day or the Monday of a week) or YYYY-MM. */
  keys: string[];
  series: { label: string; values: (number | null)[] }[];
}

const number = (v: number) => v.toLocaleString(undefined, { maximumFractionDigits: 2 });
/** A bucket key as seconds since the epoch (uPlot's time axis), at UTC midnight of its first day. */
const secondsOf = (key: string) =>
  Date.parse(`${key.length === 7 ? `${key}-01` : key}T00:00:00Z`) / 1000;

class TesseraTimeChart extends LitElement {
  static override properties = { data: { attribute: false }, label: {} };
  static override styles = [
    unsafeCSS(uPlotCss),
    css`:host { display: block; } .u-legend { font-size: 12px; }`,
  ];
  declare data: TimeSeries | undefined;
  declare label: string;
  private plot: uPlot | undefined;
  private readonly resize = new ResizeObserver(() =>
    this.plot?.setSize({ width: this.width(), height: 240 }),
  );

  override connectedCallback() {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width() {
    return Math.max(280, this.clientWidth);
  }

  protected override render() {
    return html`<div role="img" aria-label=${this.label} class="chart"></div>`;
  }

  protected override updated(changed: PropertyValues) {
    if (!changed.has("data") || !this.data) return;
    this.plot?.destroy();
    const { keys, series } = this.data;
    const colors = seriesColors(this);
    const target = this.renderRoot.querySelector(".chart") as HTMLElement;
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 240,
        padding: [12, 44, 0, 0], // room for the last date label
        // Bucket keys are calendar days: draw them as UTC so no zone shifts a day.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: { x: { time: true } },
        // Ticks on whole days (or months), labelled as the keys are: no clock times for daily data.
        axes: [
          {
            incrs: [86_400, 7 * 86_400, 28 * 86_400, 365 * 86_400],
            values: keys[0]?.length === 7 ? "{YYYY}-{MM}" : "{YYYY}-{MM}-{DD}",
            space: 70,
          },
          { values: (_, ticks) => ticks.map(number), size: 60 },
        ],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: colors[i % colors.length],
            width: 2,
            points: { show: keys.length <= 40 },
            value: (_: uPlot, v: number | null) => (v === null ? "–" : number(v)),
          })),
        ],
      },
      [keys.map(secondsOf), ...series.map((s) => s.values)],
      target,
    );
  }
}

defineElement("tessera-time-chart", TesseraTimeChart);

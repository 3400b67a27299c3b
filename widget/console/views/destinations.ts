import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { WEBHOOK_EVENTS } from "../../../shared/schemas/destinations";
import { defineElement } from "../../src/define";
import { RefreshController } from "../refresh";
import { failed, fieldText, loading } from "../ui";
import { ConsoleView } from "./view";

/** A destination as the tab shows it: webhook ones carry their recent deliveries, file ones their runs. */
type DestinationView = NonNullable<ConsoleDestinations["destinations"]["value"]>[number];
type Delivery = Extract<DestinationView, { deliveries: unknown }>["deliveries"][number];
type Run = Extract<DestinationView, { runs: unknown }>["runs"][number];
/** How often the tab reads again while a delivery or a run is still under way. */
const REFRESH_MS = 1_000;

/**
 * @summary Destinations: create a webhook one, send it a test delivery, retry a failed delivery;
 * run a file export now and follow its runs.
 *
 * @tag tessera-console-destinations
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleDestinations extends ConsoleView {
  static override properties = { notice: { state: true }, secret: { state: true } };
  declare secret: { name: string; value: string } | undefined;
  declare notice: string;
  private readonly refresh = new RefreshController(this, REFRESH_MS);

  readonly destinations = new Task(this, {
    task: async (_, { signal }) => {
      const list = await this.api.read(
        this.api.client.v1.destinations.$get(undefined, { init: { signal } }),
      );
      const items = await Promise.all(
        list.items.map(async (d) =>
          d.config?.type === "webhook"
            ? {
                ...d,
                deliveries: (
                  await this.api.read(
                    this.api.client.v1.destinations[":name"].deliveries.$get(
                      { param: { name: d.name }, query: { limit: "20" } },
                      { init: { signal } },
                    ),
                  )
                ).items,
              }
            : {
                ...d,
                runs: (
                  await this.api.read(
                    this.api.client.v1.destinations[":name"].runs.$get(
                      { param: { name: d.name } },
                      { init: { signal } },
                    ),
                  )
                ).items.slice(0, 5),
              },
        ),
      );
      const underWay = items.some(
        (d) =>
          ("deliveries" in d && d.deliveries.some((x) => x.status === "pending")) ||
          ("runs" in d && d.runs.some((r) => r.status === "queued" || r.status === "running")),
      );
      this.refresh.schedule(underWay, () => this.destinations.run());
      return items;
    },
    args: () => [],
  });

  constructor() {
    super();
    this.notice = "";
  }

  /** Runs one change, shows its outcome, and reads the list again. */
  private async act(change: () => Promise<unknown>, notice: string) {
    this.notice = "";
    if (!(await this.attempt(change))) return;
    this.notice = notice;
    this.destinations.run();
  }

  private create(event: SubmitEvent) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const name = fieldText(form, "name");
    const events = WEBHOOK_EVENTS.filter(
      (e) => (form.elements.namedItem(`event-${e}`) as HTMLInputElement).checked,
    );
    void this.act(async () => {
      const saved = await this.api.read(
        this.api.client.v1.destinations[":name"].$put({
          param: { name },
          json: { type: "webhook", url: fieldText(form, "url"), events } as never,
        }),
      );
      form.reset();
      // The signing secret comes back once, with the creation: the receiver needs it to verify deliveries.
      this.secret =
        "signingSecret" in saved && typeof saved.signingSecret === "string"
          ? { name, value: saved.signingSecret }
          : undefined;
    }, `Saved ${name}. Send it a test delivery to check the receiver.`);
  }

  private test(name: string) {
    void this.act(
      () => this.api.read(this.api.client.v1.destinations[":name"].test.$post({ param: { name } })),
      `Test delivery queued for ${name}.`,
    );
  }

  private retry(name: string, id: string) {
    void this.act(
      () =>
        this.api.read(
          this.api.client.v1.destinations[":name"].deliveries[":id"].retry.$post({
            param: { name, id },
          }),
        ),
      `Delivery ${id} queued again.`,
    );
  }

  /** Every dead delivery of the destination sent again (the API takes 1,000 a call; more calls while it says there are more). */
  private redrive(name: string) {
    void this.act(async () => {
      for (let more = true; more; ) {
        const answer = await this.api.read(
          this.api.client.v1.destinations[":name"].deliveries.redrive.$post({
            param: { name },
            query: { status: "dead" },
          }),
        );
        more = answer.more && answer.requeued > 0;
      }
    }, `Dead deliveries of ${name} queued again.`);
  }

  private run(name: string) {
    void this.act(
      () =>
        this.api.read(
          this.api.client.v1.destinations[":name"].runs.$post({ param: { name }, query: {} }),
        ),
      `Export of ${name} started.`,
    );
  }

  private renderForm() {
    return html`<form class="panel" aria-label="Create a webhook destination" @submit=${this.create}>
      <h3>New webhook destination</h3>
      <div class="builder">
        <label>name <input name="name" required pattern="[a-z][a-z0-9_-]{0,63}" placeholder="crm-hook" /></label>
        <label>url <input name="url" type="url" required placeholder="https://hooks.example.com/tessera" size="36" /></label>
      </div>
      <fieldset>
        <legend>events</legend>
        ${WEBHOOK_EVENTS.map((e) => html`<label><input type="checkbox" name=${`event-${e}`} ?checked=${e.startsWith("segment.")} /> ${e}</label>`)}
      </fieldset>
      <p><button class="action" type="submit" ?disabled=${this.busy}>Create destination</button></p>
    </form>`;
  }

  private renderWebhook(name: string, deliveries: Delivery[]) {
    const failing = deliveries.filter((x) => x.status === "failed" || x.status === "dead").length;
    const dead = deliveries.some((x) => x.status === "dead");
    return html`<p>${deliveries.length} recent deliveries${failing ? html`, <strong class="error">${failing} failing</strong>` : nothing}.
        <button class="action" @click=${() => this.test(name)} ?disabled=${this.busy}>Send test delivery</button>
        ${dead ? html`<button class="action" @click=${() => this.redrive(name)} ?disabled=${this.busy}>Retry all dead</button>` : nothing}</p>
      <table>
        <thead><tr><th>created</th><th>event</th><th>profile</th><th>status</th><th class="num">attempts</th><th>last error</th><th></th></tr></thead>
        <tbody>${deliveries.map(
          (
            x,
          ) => html`<tr><td>${x.createdAt}</td><td>${x.type}</td><td>${x.profileId}</td><td>${x.status}</td><td class="num">${x.attempts}</td><td>${x.lastError ?? ""}</td>
            <td>${x.status === "failed" || x.status === "dead" ? html`<button class="action" @click=${() => this.retry(name, x.id)} ?disabled=${this.busy}>Retry</button>` : nothing}</td></tr>`,
        )}</tbody>
      </table>`;
  }

  private renderFiles(d: DestinationView, runs: Run[]) {
    return html`<p class="muted">Schedule: ${d.config?.schedule ?? "manual"}; last run ${d.lastRunAt ?? "never"}.
        <button class="action" @click=${() => this.run(d.name)} ?disabled=${this.busy}>Run export now</button></p>
      ${
        runs.length
          ? html`<table>
            <thead><tr><th>run</th><th>started</th><th>status</th><th class="num">rows</th><th>files</th><th>error</th></tr></thead>
            <tbody>${runs.map((r) => html`<tr><td>${r.runId}</td><td>${r.startedAt}</td><td>${r.status}</td><td class="num">${r.rows.toLocaleString()}</td><td>${r.parts.length}</td><td>${r.error ?? ""}</td></tr>`)}</tbody>
          </table>`
          : nothing
      }`;
  }

  private renderOne(d: DestinationView) {
    return html`<div class="panel destination">
      <h3>${d.name} <span class="muted">${d.config?.type}${d.config?.url ? ` → ${d.config.url}` : ""}</span></h3>
      ${"deliveries" in d ? this.renderWebhook(d.name, d.deliveries) : this.renderFiles(d, "runs" in d ? d.runs : [])}
    </div>`;
  }

  protected override render() {
    return html`${this.renderForm()}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      ${
        this.secret
          ? html`<p class="panel secret">Signing secret of ${this.secret.name}, shown this once — give it to the receiver to verify deliveries: <code>${this.secret.value}</code></p>`
          : nothing
      }
      ${this.destinations.render({
        pending: loading,
        complete: (items) =>
          items.length
            ? html`${items.map((d) => this.renderOne(d))}`
            : html`<p class="muted">No destinations yet: create a webhook one above, or a file export with PUT /v1/destinations/:name (r2, s3, azure).</p>`,
        error: failed,
      })}`;
  }
}

defineElement("tessera-console-destinations", ConsoleDestinations);

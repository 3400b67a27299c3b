import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { failed } from "../ui";
import { ConsoleView } from "./view";

/** A destination as the tab shows it: webhook ones carry their recent deliveries. */
type DestinationView = NonNullable<ConsoleDestinations["destinations"]["value"]>[number];

/** Destinations; webhook ones with their recent deliveries, failures in view. */
export class ConsoleDestinations extends ConsoleView {
  readonly destinations = new Task(this, {
    task: async (_, { signal }) => {
      const list = await this.api.read(this.api.client.v1.destinations.$get(undefined, { init: { signal } }));
      return Promise.all(
        list.items.map(async (d) =>
          d.config?.type === "webhook"
            ? { ...d, deliveries: (await this.api.read(this.api.client.v1.destinations[":name"].deliveries.$get({ param: { name: d.name }, query: { limit: "20" } }, { init: { signal } }))).items }
            : d,
        ),
      );
    },
    args: () => [],
  });

  private renderOne(d: DestinationView) {
    const deliveries = "deliveries" in d ? d.deliveries : undefined;
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
  }

  protected override render() {
    return this.destinations.render({
      complete: (items) => (items.length ? html`${items.map((d) => this.renderOne(d))}` : html`<p class="muted">No destinations yet: PUT /v1/destinations/:name (r2, s3, azure or webhook).</p>`),
      error: failed,
    });
  }
}

defineElement("tessera-console-destinations", ConsoleDestinations);

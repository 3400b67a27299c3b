import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { AGGREGATES } from "../../../shared/schemas/computed";
import { defineElement } from "../../src/define";
import { failed, loading } from "../ui";
import { ConsoleView } from "./view";

const text = (form: HTMLFormElement, name: string) =>
  ((form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value ?? "").trim();

/**
 * @summary Computed attributes with their status and progress, and a form to define one.
 *
 * @tag tessera-console-computed
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleComputed extends ConsoleView {
  private readonly definitions = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(
        this.api.client.v1["computed-attributes"].$get(undefined, { init: { signal } }),
      ),
    args: () => [],
  });

  private async create(event: SubmitEvent) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const types = text(form, "types")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    const field = text(form, "field");
    const within = text(form, "within");
    const body = {
      name: text(form, "name"),
      aggregate: text(form, "aggregate") as (typeof AGGREGATES)[number],
      ...(field ? { field } : {}),
      ...(types.length ? { filter: { type: types } } : {}),
      ...(within ? { within } : {}),
    };
    const saved = await this.attempt(() =>
      this.api.read(
        this.api.client.v1["computed-attributes"][":id"].$put({
          param: { id: text(form, "id") },
          json: body,
        }),
      ),
    );
    if (saved) {
      form.reset();
      this.definitions.run();
    }
  }

  private renderForm() {
    return html`<form class="panel builder" aria-label="Define a computed attribute" @submit=${this.create}>
      <label>id <input name="id" required pattern="[a-z][a-z0-9_-]{0,63}" placeholder="ltv" /></label>
      <label>name <input name="name" required placeholder="Lifetime value" /></label>
      <label>aggregate <select name="aggregate">${AGGREGATES.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>
      <label>field <input name="field" placeholder="data.amount" /></label>
      <label>event types <input name="types" placeholder="purchase, refund" /></label>
      <label>within <input name="within" placeholder="P90D" size="6" /></label>
      <button class="action" type="submit" ?disabled=${this.busy}>Define</button>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  protected override render() {
    return html`${this.renderForm()}
      ${this.definitions.render({
        pending: loading,
        complete: (page) => html`<div class="panel">
          <h3>Computed attributes</h3>
          ${
            page.items.length
              ? html`<table>
                <thead><tr><th>id</th><th>name</th><th>aggregate</th><th>field</th><th>events</th><th>within</th><th>status</th><th class="num">identities computed</th></tr></thead>
                <tbody>${page.items.map(
                  (a) => html`<tr>
                    <td>${a.id}</td><td>${a.name}</td><td>${a.aggregate}</td><td>${a.field ?? ""}</td><td>${a.filter?.type?.join(", ") ?? "any"}</td><td>${a.within ?? ""}</td>
                    <td>${a.status}</td><td class="num">${a.progress.computedIdentities}${a.progress.totalIdentities !== undefined ? ` of ${a.progress.totalIdentities}` : ""}</td>
                  </tr>`,
                )}</tbody>
              </table>`
              : html`<p class="muted">No computed attributes yet. Define one above: it shows on every profile at attributes.computed.&lt;id&gt;.</p>`
          }
        </div>`,
        error: failed,
      })}`;
  }
}

defineElement("tessera-console-computed", ConsoleComputed);

import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { SCOPES } from "../../../shared/scopes";
import { defineElement } from "../../src/define";
import { failed, fieldText, loading } from "../ui";
import { ConsoleView } from "./view";

/** A new key as the API answers it once: the key itself and, for a public key, its site secret. */
interface Created {
  name: string;
  key: string;
  siteSecret?: string;
}

/**
 * @summary API keys: create a secret key (scopes) or a public key (origins), see the key once,
 * delete one.
 *
 * @tag tessera-console-keys
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleKeys extends ConsoleView {
  static override properties = { created: { state: true }, kind: { state: true } };
  declare created: Created | undefined;
  declare kind: "secret" | "public";

  private readonly keys = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(this.api.client.v1.keys.$get(undefined, { init: { signal } })),
    args: () => [],
  });

  constructor() {
    super();
    this.kind = "secret";
  }

  /** A change to the keys, then the list read again. */
  private async change(run: () => Promise<void>) {
    if (await this.attempt(run)) this.keys.run();
  }

  private create(event: SubmitEvent) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const name = fieldText(form, "name");
    const scopes = SCOPES.filter(
      (s) => (form.elements.namedItem(`scope-${s}`) as HTMLInputElement | null)?.checked,
    );
    const origins = fieldText(form, "origins")
      .split(/[\s,]+/)
      .filter(Boolean);
    const json =
      this.kind === "secret"
        ? { name, kind: "secret" as const, scopes }
        : { name, kind: "public" as const, origins };
    void this.change(async () => {
      const made = await this.api.read(this.api.client.v1.keys.$post({ json: json as never }));
      this.created = {
        name,
        key: made.key,
        ...(made.siteSecret ? { siteSecret: made.siteSecret } : {}),
      };
      form.reset();
    });
  }

  private deleteKey(id: string, name: string) {
    if (!confirm(`Delete the key "${name}"? Anything using it stops working at once.`)) return;
    void this.change(async () => {
      await this.api.read(this.api.client.v1.keys[":id"].$delete({ param: { id } }));
      this.created = undefined;
    });
  }

  private renderForm() {
    return html`<form class="panel" aria-label="Create an API key" @submit=${this.create}>
      <h3>New API key</h3>
      <div class="builder">
        <label>name <input name="name" required maxlength="100" placeholder="Shop back end" /></label>
        <label>kind
          <select name="kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as "secret" | "public")}>
            <option value="secret" ?selected=${this.kind === "secret"}>secret (servers)</option>
            <option value="public" ?selected=${this.kind === "public"}>public (a website)</option>
          </select>
        </label>
        ${this.kind === "public" ? html`<label>origins <input name="origins" required placeholder="https://shop.example" size="30" /></label>` : nothing}
      </div>
      ${
        this.kind === "secret"
          ? html`<fieldset><legend>scopes</legend>${SCOPES.map((s) => html`<label><input type="checkbox" name=${`scope-${s}`} ?checked=${s === "ingest"} /> ${s}</label>`)}</fieldset>`
          : nothing
      }
      <p><button class="action" type="submit" ?disabled=${this.busy}>Create key</button></p>
    </form>`;
  }

  protected override render() {
    const made = this.created;
    return html`${this.renderForm()}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${
        made
          ? html`<div class="panel secret" role="status">
            <p>Key "${made.name}", shown this once — store it now: <code>${made.key}</code></p>
            ${made.siteSecret ? html`<p>Its site secret (signs identity tokens on your server): <code>${made.siteSecret}</code></p>` : nothing}
          </div>`
          : nothing
      }
      ${this.keys.render({
        pending: loading,
        complete: (page) => html`<div class="panel">
          <h3>API keys</h3>
          <table>
            <thead><tr><th>name</th><th>kind</th><th>scopes or origins</th><th>prefix</th><th>created</th><th>last used</th><th></th></tr></thead>
            <tbody>${page.items.map(
              (
                k,
              ) => html`<tr><td>${k.name}</td><td>${k.kind}</td><td>${k.kind === "public" ? k.origins.join(", ") : k.scopes.join(", ")}</td><td><code>${k.keyPrefix}</code></td>
                <td>${k.createdAt}</td><td>${k.lastUsedAt ?? "never"}</td>
                <td><button class="action" @click=${() => this.deleteKey(k.id, k.name)} ?disabled=${this.busy}>Delete</button></td></tr>`,
            )}</tbody>
          </table>
        </div>`,
        error: failed,
      })}`;
  }
}

defineElement("tessera-console-keys", ConsoleKeys);

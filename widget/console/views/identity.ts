import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { failed, loading } from "../ui";
import { ConsoleView } from "./view";

interface Effect {
  profilesAffected: number;
  merges: unknown[];
  splits: unknown[];
  moves: unknown[];
  evictions: unknown[];
  segmentChanges: unknown[];
  sample: {
    before: { profileId: string; identities: string[] };
    after: { profileId?: string; identities: string[] }[];
  }[];
  truncated: boolean;
}

/**
 * @summary Identity rules on existing graphs (SPEC §9): change a namespace, preview what it does
 * to existing graphs, then save it for new data only or apply it to existing graphs; runs with
 * their progress, each revertible.
 *
 * @tag tessera-console-identity
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleIdentity extends ConsoleView {
  static override properties = {
    preview: { state: true },
    problem: { state: true },
    busy: { state: true },
    code: { state: true },
  };
  declare preview: Effect | undefined;
  /** The namespace being edited: its current settings fill the form. */
  declare code: string | undefined;
  private pending: { code: string; body: Record<string, unknown> } | undefined;

  private readonly namespaces = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(this.api.client.v1.namespaces.$get(undefined, { init: { signal } })),
    args: () => [],
  });
  private readonly runs = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(this.api.client.v1["graph-runs"].$get(undefined, { init: { signal } })),
    args: () => [],
  });

  private previewChange(event: SubmitEvent) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const field = (name: string) =>
      (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const code = field("code");
    const current = this.namespaces.value?.items.find((n) => n.code === code);
    if (!current) return;
    const body = {
      normalize: current.normalize,
      unique: (form.elements.namedItem("unique") as HTMLInputElement).checked,
      priority: Number(field("priority")),
      maxPerGraph: field("maxPerGraph") ? Number(field("maxPerGraph")) : null,
      blockedValues: field("blockedValues")
        ? field("blockedValues")
            .split(",")
            .map((v) => v.trim())
            .filter(Boolean)
        : [],
    };
    void this.attempt(async () => {
      this.preview = (await this.api.read(
        this.api.client.v1.namespaces[":code"].$put({
          param: { code },
          query: { preview: "true" },
          json: body as never,
        }),
      )) as unknown as Effect;
      this.pending = { code, body };
    });
  }

  private save(apply: boolean) {
    const pending = this.pending;
    if (!pending) return;
    void this.attempt(async () => {
      await this.api.read(
        this.api.client.v1.namespaces[":code"].$put({
          param: { code: pending.code },
          query: apply ? { apply: "retroactive" } : {},
          json: pending.body as never,
        }),
      );
      this.preview = undefined;
      this.pending = undefined;
      this.namespaces.run();
      this.runs.run();
    });
  }

  private revert(runId: string) {
    void this.attempt(async () => {
      await this.api.read(
        this.api.client.v1["graph-runs"][":id"].revert.$post({ param: { id: runId } }),
      );
      this.runs.run();
    });
  }

  private renderForm() {
    return this.namespaces.render({
      pending: loading,
      complete: (page) => {
        const ns = page.items.find((n) => n.code === this.code) ?? page.items[0];
        return html`<form class="panel builder" aria-label="Change a namespace" @submit=${this.previewChange}>
        <label>namespace <select name="code" @change=${(e: Event) => (this.code = (e.target as HTMLSelectElement).value)}>${page.items.map((n) => html`<option value=${n.code} ?selected=${n.code === ns?.code}>${n.code}</option>`)}</select></label>
        <label>max per graph <input name="maxPerGraph" type="number" min="1" max="1000" placeholder="none" .value=${String(ns?.maxPerGraph ?? "")} /></label>
        <label>priority <input name="priority" type="number" min="0" max="1000" .value=${String(ns?.priority ?? 0)} /></label>
        <label>blocked values <input name="blockedValues" placeholder="test@example.com, /^0+$/" .value=${(ns?.blockedValues ?? []).join(", ")} /></label>
        <label><span>unique</span><input name="unique" type="checkbox" .checked=${ns?.unique ?? false} /></label>
        <button class="action" type="submit" ?disabled=${this.busy}>Preview</button>
      </form>`;
      },
      error: failed,
    });
  }

  private renderPreview(effect: Effect) {
    return html`<div class="panel" aria-label="Preview">
      <h3>What the change would do to existing graphs${effect.truncated ? " (the first 1,000 profiles)" : ""}</h3>
      <p>${effect.profilesAffected} profiles affected: ${effect.merges.length} merges, ${effect.splits.length} splits, ${effect.moves.length} moves,
        ${effect.evictions.length} evictions, ${effect.segmentChanges.length} segment changes.</p>
      ${
        effect.sample.length
          ? html`<table>
            <thead><tr><th>before</th><th>after</th></tr></thead>
            <tbody>${effect.sample.map((s) => html`<tr><td>${s.before.identities.join(", ")}</td><td>${s.after.map((a) => a.identities.join(", ")).join(" | ")}</td></tr>`)}</tbody>
          </table>`
          : nothing
      }
      <p>
        <button class="action" @click=${() => this.save(false)} ?disabled=${this.busy}>Save for new data only</button>
        <button class="action" @click=${() => this.save(true)} ?disabled=${this.busy}>Apply to existing graphs</button>
      </p>
    </div>`;
  }

  private renderRuns() {
    return this.runs.render({
      pending: loading,
      complete: (page) => html`<div class="panel">
        <h3>Changes applied to existing graphs</h3>
        <button class="action" @click=${() => this.runs.run()}>Refresh</button>
        ${
          page.items.length
            ? html`<table>
              <thead><tr><th>run</th><th>kind</th><th>change</th><th>status</th><th class="num">graphs</th><th class="num">merges</th><th class="num">splits</th><th></th></tr></thead>
              <tbody>${page.items.map(
                (r) => html`<tr>
                  <td>${r.runId}</td><td>${r.kind}</td><td>${String(r.change.target)} ${String(r.change.code ?? "")}</td><td>${r.status}</td>
                  <td class="num">${r.graphsChecked}</td><td class="num">${r.merges}</td><td class="num">${r.splits}</td>
                  <td>${r.kind === "apply" ? html`<button class="action" @click=${() => this.revert(r.runId)} ?disabled=${this.busy}>Revert</button>` : nothing}</td>
                </tr>`,
              )}</tbody>
            </table>`
            : html`<p class="muted">No change has been applied to existing graphs.</p>`
        }
      </div>`,
      error: failed,
    });
  }

  protected override render() {
    return html`${this.renderForm()} ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing} ${this.preview ? this.renderPreview(this.preview) : nothing} ${this.renderRuns()}`;
  }
}

defineElement("tessera-console-identity", ConsoleIdentity);

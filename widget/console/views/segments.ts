import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { RefreshController } from "../refresh";
import { bars, errorText, failed, fieldText, loading } from "../ui";
import { ConsoleView } from "./view";

type Segment = NonNullable<ConsoleSegments["segments"]["value"]>["items"][number];
const EXAMPLE_RULE = `{ "attr": "loyalty.tier", "op": "eq", "value": "gold" }`;
/** How often the list is read again while a segment is still evaluating. */
const REFRESH_MS = 1_000;
/** How long typing must pause before the size preview asks the API. */
const PREVIEW_PAUSE_MS = 400;

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), {
      once: true,
    });
  });

/**
 * @summary Segments with their sizes and evaluation status, and a form to create one.
 *
 * @tag tessera-console-segments
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleSegments extends ConsoleView {
  static override properties = {
    saved: { state: true },
    editing: { state: true },
    draftRule: { state: true },
  };
  declare saved: string;
  /** The rule as typed, for the live size preview. */
  declare draftRule: string;
  /** The segment whose definition the form holds, when it edits one rather than creating one. */
  declare editing: Segment | undefined;
  private readonly refresh = new RefreshController(this, REFRESH_MS);

  private readonly segments = new Task(this, {
    task: async (_, { signal }) => {
      const page = await this.api.read(
        this.api.client.v1.segments.$get(undefined, { init: { signal } }),
      );
      // A new or changed segment is evaluated in the background: show its size once it is ready.
      this.refresh.schedule(
        page.items.some((s) => s.status !== "ready"),
        () => this.segments.run(),
      );
      return page;
    },
    args: () => [],
  });

  /** How many profiles the rule being typed matches now (`?preview=true`: nothing saved). */
  private readonly sizePreview = new Task(this, {
    task: async ([text], { signal }) => {
      await pause(PREVIEW_PAUSE_MS, signal);
      let rule: unknown;
      try {
        rule = JSON.parse(text);
      } catch {
        throw new Error("The rule is not valid JSON yet.");
      }
      const json = { name: "preview", rule: rule as never };
      const answer = await this.api.read(
        this.api.client.v1.segments[":id"].$put(
          { param: { id: "preview" }, query: { preview: "true" }, json },
          { init: { signal } },
        ),
      );
      if (!("preview" in answer))
        throw new Error("the API saved the segment instead of previewing it");
      return answer;
    },
    args: () => [this.draftRule] as const,
  });

  constructor() {
    super();
    this.saved = "";
    this.draftRule = EXAMPLE_RULE;
  }

  private edit(segment: Segment | undefined) {
    this.editing = segment;
    this.saved = "";
    this.problem = "";
    this.draftRule = segment ? JSON.stringify(segment.rule, null, 2) : EXAMPLE_RULE;
  }

  private renderSizePreview() {
    return html`<p class="muted" role="status" aria-live="polite" data-preview>${this.sizePreview.render(
      {
        pending: () => "Counting the profiles this rule matches…",
        complete: (p) =>
          p.exact
            ? `Matches ${p.size.toLocaleString()} of ${p.totalProfiles.toLocaleString()} profiles now.`
            : `Matches about ${p.size.toLocaleString()} of ${p.totalProfiles.toLocaleString()} profiles now (${p.matched.toLocaleString()} of a sample of ${p.sampled.toLocaleString()}).`,
        error: (err) => (signalAborted(err) ? "" : `Size preview: ${errorText(err)}`),
      },
    )}</p>`;
  }

  private async create(event: SubmitEvent) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    this.problem = "";
    this.saved = "";
    let rule: unknown;
    try {
      rule = JSON.parse(fieldText(form, "rule"));
    } catch {
      this.problem = "The rule is not valid JSON.";
      return;
    }
    const id = fieldText(form, "id");
    const json = {
      name: fieldText(form, "name"),
      rule: rule as never,
      public: (form.elements.namedItem("public") as HTMLInputElement).checked,
    };
    if (
      await this.attempt(() =>
        this.api.read(this.api.client.v1.segments[":id"].$put({ param: { id }, query: {}, json })),
      )
    ) {
      form.reset();
      this.edit(undefined);
      this.saved = `Saved ${id}: its members are being counted.`;
      this.segments.run();
    }
  }

  private renderForm() {
    const e = this.editing;
    return html`<form class="panel" aria-label=${e ? "Edit a segment" : "Create a segment"} @submit=${this.create}>
      <h3>${e ? `Edit ${e.id}` : "New segment"}</h3>
      <div class="builder">
        <label>id <input name="id" required pattern="[a-z][a-z0-9_-]{0,63}" placeholder="gold-members" .value=${e?.id ?? ""} ?readonly=${!!e} /></label>
        <label>name <input name="name" required placeholder="Gold members" .value=${e?.name ?? ""} /></label>
        <label><span><input name="public" type="checkbox" .checked=${e?.public ?? false} /> public (the website may see it)</span></label>
      </div>
      <label for="segment-rule">rule (JSON; see /docs for the operators)</label>
      <textarea id="segment-rule" name="rule" rows=${e ? 6 : 3} required .value=${this.draftRule}
        @input=${(event: InputEvent) => (this.draftRule = (event.target as HTMLTextAreaElement).value)}></textarea>
      ${this.renderSizePreview()}
      <p>
        <button class="action" type="submit" ?disabled=${this.busy}>${e ? "Save changes" : "Create segment"}</button>
        ${e ? html`<button type="button" class="action" @click=${() => this.edit(undefined)}>Cancel</button>` : nothing}
      </p>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}${this.saved ? html`<p class="ok" role="status">${this.saved}</p>` : nothing}
    </form>`;
  }

  protected override render() {
    return html`${this.renderForm()}${this.segments.render({
      pending: loading,
      complete: (page) => html`<div class="panel">
        <h3>Segment sizes</h3>
        ${
          page.items.length
            ? bars(
                page.items.map((s) => [s.id, s.size ?? 0]),
                "Segment sizes",
              )
            : html`<p class="muted">No segments yet: create one above.</p>`
        }
        <table>
          <thead><tr><th>id</th><th>name</th><th>public</th><th>status</th><th class="num">members</th><th></th></tr></thead>
          <tbody>${page.items.map(
            (
              s,
            ) => html`<tr><td>${s.id}</td><td>${s.name}</td><td>${s.public ? "yes" : "no"}</td><td>${s.status}</td><td class="num">${(s.size ?? 0).toLocaleString()}</td>
              <td><button class="action" @click=${() => this.edit(s)}>Edit</button></td></tr>`,
          )}</tbody>
        </table>
      </div>`,
      error: failed,
    })}`;
  }
}

const signalAborted = (err: unknown) => err instanceof DOMException && err.name === "AbortError";

defineElement("tessera-console-segments", ConsoleSegments);

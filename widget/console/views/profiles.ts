import { Task, TaskStatus } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { graphPicture } from "../graph-picture";
import { failed, loading } from "../ui";
import { ConsoleView } from "./view";

type ProfileSummary = {
  profileId: string;
  displayName: string;
  primaryIdentity: { namespace: string; id: string };
};
/** What the detail pane shows: the identity, its graph and its timeline, as the API answers them. */
type ProfileDetail = NonNullable<ConsoleProfiles["detail"]["value"]>;

/**
 * @summary Search profiles; open one to see its card, identity graph, history and timeline.
 *
 * @tag tessera-console-profiles
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleProfiles extends ConsoleView {
  static override properties = { query: { state: true }, selected: { state: true } };
  declare query: string;
  declare selected: ProfileSummary | undefined;
  private typing: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.query = "";
    this.selected = undefined;
  }

  private readonly results = new Task(this, {
    task: ([q], { signal }) =>
      this.api.read(
        this.api.client.v1.profiles.$get(
          { query: { limit: "20", ...(q ? { q } : {}) } },
          { init: { signal } },
        ),
      ),
    args: () => [this.query] as const,
  });

  readonly detail = new Task(this, {
    task: async ([item], { signal }) => {
      if (!item) return undefined;
      const { namespace, id } = item.primaryIdentity;
      const [graph, timeline] = await Promise.all([
        this.api.read(
          this.api.client.v1.identities[":namespace"][":id"].graph.$get(
            { param: { namespace, id } },
            { init: { signal } },
          ),
        ),
        this.api.read(
          this.api.client.v1.profiles[":profileId"].events.$get(
            { param: { profileId: item.profileId }, query: { limit: "25" } },
            { init: { signal } },
          ),
        ),
      ]);
      return { identity: `${namespace}:${id}`, graph, timeline };
    },
    args: () => [this.selected] as const,
  });

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.typing);
  }

  private search(q: string) {
    clearTimeout(this.typing);
    this.typing = setTimeout(() => (this.query = q), 200);
  }

  private renderDetail(d: ProfileDetail) {
    return html`<tessera-profile-card identity=${d.identity} token=${this.api.key}></tessera-profile-card>
      <div class="panel">
        <h3>Identity graph</h3>
        ${graphPicture(d.graph, `Identity graph of ${d.identity}: ${d.graph.identities.length} identities, ${d.graph.links.length} links, ${d.graph.refusedLinks.length} refused`)}
        <details>
          <summary>Links as a table</summary>
          <table>
            <thead><tr><th>from</th><th>to</th><th>dataset</th><th>last seen</th><th>applied</th></tr></thead>
            <tbody>${[...d.graph.links, ...d.graph.refusedLinks].map((l) => html`<tr><td>${l.from.namespace}: ${l.from.id}</td><td>${l.to.namespace}: ${l.to.id}</td><td>${l.dataset}</td><td>${l.lastSeen}</td><td>${l.applied ? "yes" : "kept, not applied"}</td></tr>`)}</tbody>
          </table>
        </details>
        <h3>History</h3>
        <ul>${d.graph.history.map((h) => html`<li>${h.at} — ${h.kind}: ${h.identities.map((i) => `${i.namespace}:${i.id}`).join(", ")}</li>`)}</ul>
        <h3>Timeline</h3>
        <ul>${d.timeline.items.map((e) => html`<li>${e.timestamp} — ${e.type} <span class="muted">(${e.dataset})</span></li>`)}</ul>
      </div>`;
  }

  /** The last results stay in view while the next search runs, so a click never lands on a vanishing list. */
  private renderResults() {
    const page = this.results.value;
    const error = this.results.status === TaskStatus.ERROR ? failed(this.results.error) : nothing;
    if (!page) return error;
    return html`${error}<ul class="results">
        ${page.items.map(
          (
            p,
          ) => html`<li><button aria-current=${this.selected?.profileId === p.profileId ? "true" : "false"} @click=${() => (this.selected = p)}>
            <strong>${p.displayName}</strong><br /><span class="muted">${p.primaryIdentity.namespace}: ${p.primaryIdentity.id}</span>
          </button></li>`,
        )}
      </ul>
      ${page.items.length === 0 ? html`<p class="muted">No matches.</p>` : nothing}`;
  }

  protected override render() {
    return html`<div class="grid">
      <div>
        <label for="q">Search profiles</label><br />
        <input id="q" type="search" placeholder="name, e-mail, phone, id…" @input=${(e: InputEvent) => this.search((e.target as HTMLInputElement).value)} />
        ${this.renderResults()}
      </div>
      <div>
        ${
          this.selected
            ? this.detail.render({
                pending: loading,
                complete: (d) => (d ? this.renderDetail(d) : nothing),
                error: failed,
              })
            : html`<p class="muted">Search and pick a profile to see its card, graph and timeline.</p>`
        }
      </div>
    </div>`;
  }
}

defineElement("tessera-console-profiles", ConsoleProfiles);

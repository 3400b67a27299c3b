import { Task } from "@lit/task";
import { html } from "lit";
import { defineElement } from "../../src/define";
import { bars, failed, howToIngest, loading } from "../ui";
import { ConsoleView } from "./view";

/**
 * @summary The profile dashboard: totals, growth, merges, namespaces, graph sizes, overlap.
 *
 * @tag tessera-console-dashboard
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleDashboard extends ConsoleView {
  private readonly metrics = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(this.api.client.v1.metrics.profiles.$get(undefined, { init: { signal } })),
    args: () => [],
  });

  protected override render() {
    return this.metrics.render({
      pending: loading,
      complete: (m) =>
        m.total === 0
          ? howToIngest()
          : html`<div class="cards">
                <div class="panel"><div class="muted">Profiles</div><div class="big">${m.total}</div></div>
                <div class="panel"><div class="muted">Added, last 7 / 30 days</div><div class="big">${m.added.last7d} / ${m.added.last30d}</div></div>
                <div class="panel"><div class="muted">Merges, last 7 / 30 days</div><div class="big">${m.merges.last7d} / ${m.merges.last30d}</div></div>
              </div>
              <div class="cards">
                <div class="panel"><h3>Profiles by namespace</h3>${bars(Object.entries(m.byNamespace) as [string, number][], "Profiles by namespace")}</div>
                <div class="panel"><h3>Graph sizes (identities per profile)</h3>${bars(
                  m.graphSizes.map((g) => [g.identities, g.profiles]),
                  "Graph sizes",
                )}</div>
                <div class="panel"><h3>Identity overlap</h3>${bars(
                  m.identityOverlap.slice(0, 8).map((o) => [o.namespaces.join(" + "), o.profiles]),
                  "Identity overlap",
                )}</div>
              </div>`,
      error: failed,
    });
  }
}

defineElement("tessera-console-dashboard", ConsoleDashboard);

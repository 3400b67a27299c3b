import { Task } from "@lit/task";
import { html } from "lit";
import { defineElement } from "../../src/define";
import { bars, failed } from "../ui";
import { ConsoleView } from "./view";

/** Segments with their sizes and evaluation status. */
export class ConsoleSegments extends ConsoleView {
  private readonly segments = new Task(this, { task: (_, { signal }) => this.api.read(this.api.client.v1.segments.$get(undefined, { init: { signal } })), args: () => [] });

  protected override render() {
    return this.segments.render({
      complete: (page) => html`<div class="panel">
        <h3>Segment sizes</h3>
        ${page.items.length ? bars(page.items.map((s) => [s.id, s.size ?? 0]), "Segment sizes") : html`<p class="muted">No segments yet: PUT /v1/segments/:id.</p>`}
        <table>
          <thead><tr><th>id</th><th>name</th><th>public</th><th>status</th><th>members</th></tr></thead>
          <tbody>${page.items.map((s) => html`<tr><td>${s.id}</td><td>${s.name}</td><td>${s.public ? "yes" : "no"}</td><td>${s.status}</td><td>${s.size ?? 0}</td></tr>`)}</tbody>
        </table>
      </div>`,
      error: failed,
    });
  }
}

defineElement("tessera-console-segments", ConsoleSegments);

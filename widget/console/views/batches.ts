import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { ConsoleApi } from "../api";
import { errorText, failed, howToIngest } from "../ui";
import { ConsoleView } from "./view";

/** Batch uploads with their row counts; failed rows download as NDJSON. */
export class ConsoleBatches extends ConsoleView {
  static override properties = { downloadError: { state: true } };
  declare downloadError: string;
  private readonly batches = new Task(this, { task: (_, { signal }) => this.api.read(this.api.client.v1.batches.$get({ query: { limit: "50" } }, { init: { signal } })), args: () => [] });

  private async downloadErrors(batchId: string) {
    try {
      this.downloadError = "";
      ConsoleApi.download(await this.api.text(this.api.client.v1.batches[":id"].errors.$get({ param: { id: batchId } })), "application/x-ndjson", `${batchId}.errors.ndjson`);
    } catch (err) {
      this.downloadError = errorText(err);
    }
  }

  protected override render() {
    return html`${this.downloadError ? html`<p class="error" role="alert">${this.downloadError}</p>` : nothing}${this.batches.render({
      complete: (page) =>
        page.items.length === 0
          ? howToIngest()
          : html`<table>
              <thead><tr><th>batch</th><th>dataset</th><th>status</th><th>rows</th><th>ingested</th><th>failed</th><th>uploaded</th><th></th></tr></thead>
              <tbody>${page.items.map(
                (b) => html`<tr><td>${b.batchId}</td><td>${b.dataset}</td><td>${b.status}</td><td>${b.rows.total}</td><td>${b.rows.ingested}</td><td>${b.rows.failed}</td><td>${b.createdAt}</td>
                  <td>${b.rows.failed ? html`<button class="action" @click=${() => this.downloadErrors(b.batchId)}>Errors</button>` : nothing}</td></tr>`,
              )}</tbody>
            </table>`,
      error: failed,
    })}`;
  }
}

defineElement("tessera-console-batches", ConsoleBatches);

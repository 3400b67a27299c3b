import { Task } from "@lit/task";
import { html, nothing } from "lit";
import { defineElement } from "../../src/define";
import { ConsoleApi } from "../api";
import { RefreshController } from "../refresh";
import { errorText, failed, fieldText, howToIngest, loading } from "../ui";
import { ConsoleView } from "./view";

/** How often an upload's progress is read while its rows are being ingested. */
const PROGRESS_MS = 500;

interface Upload {
  batchId: string;
  file: string;
  status: string;
  total: number;
  done: number;
  failed: number;
}

/**
 * @summary Upload a CSV or NDJSON file with progress; batch uploads with their row counts; failed
 * rows download as NDJSON.
 *
 * @tag tessera-console-batches
 *
 * @cssproperty --tessera-* - the shared design tokens (widget/tokens.ts)
 */
class ConsoleBatches extends ConsoleView {
  static override properties = { upload: { state: true } };
  declare upload: Upload | undefined;
  private readonly following = new RefreshController(this, PROGRESS_MS);

  private readonly batches = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(
        this.api.client.v1.batches.$get({ query: { limit: "50" } }, { init: { signal } }),
      ),
    args: () => [],
  });
  private readonly datasets = new Task(this, {
    task: (_, { signal }) =>
      this.api.read(this.api.client.v1.datasets.$get(undefined, { init: { signal } })),
    args: () => [],
  });

  private async downloadErrors(batchId: string) {
    try {
      this.problem = "";
      ConsoleApi.download(
        await this.api.text(
          this.api.client.v1.batches[":id"].errors.$get({ param: { id: batchId } }),
        ),
        "application/x-ndjson",
        `${batchId}.errors.ndjson`,
      );
    } catch (err) {
      this.problem = errorText(err);
    }
  }

  private async send(event: SubmitEvent) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const file = (form.elements.namedItem("file") as HTMLInputElement).files?.[0];
    if (!file) return;
    this.problem = "";
    this.upload = {
      batchId: "",
      file: file.name,
      status: "uploading",
      total: 0,
      done: 0,
      failed: 0,
    };
    try {
      const { batchId } = await this.api.upload(fieldText(form, "dataset"), file);
      this.upload = { ...this.upload, batchId, status: "queued" };
      form.reset();
      await this.follow(batchId);
    } catch (err) {
      this.upload = undefined;
      this.problem = errorText(err);
    }
  }

  /** Reads the batch until its rows are all ingested or failed, then the list again. */
  private async follow(batchId: string) {
    const batch = await this.api.read(
      this.api.client.v1.batches[":id"].$get({ param: { id: batchId } }),
    );
    this.upload = {
      batchId,
      file: this.upload?.file ?? "",
      status: batch.status,
      total: batch.rows.total,
      done: batch.rows.ingested + batch.rows.failed,
      failed: batch.rows.failed,
    };
    const done = batch.status === "completed" || batch.status === "failed";
    if (done) this.batches.run();
    this.following.schedule(
      !done,
      () => void this.follow(batchId).catch((err) => (this.problem = errorText(err))),
    );
  }

  private renderUpload() {
    const u = this.upload;
    return html`<form class="panel" aria-label="Upload a file" @submit=${this.send}>
      <h3>Upload a file</h3>
      <div class="builder">
        <label>dataset
          <select name="dataset" required>${this.datasets.render({ complete: (page) => page.items.map((d) => html`<option value=${d.name}>${d.name} (${d.kind})</option>`) })}</select>
        </label>
        <label>CSV or NDJSON file <input name="file" type="file" accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson" required /></label>
        <button class="action" type="submit" ?disabled=${u !== undefined && u.status !== "completed" && u.status !== "failed"}>Upload</button>
      </div>
      ${
        u
          ? html`<p role="status" class="upload">
            ${u.file}: ${u.status}${u.total ? html` — <progress max=${u.total} value=${u.done}></progress> ${u.done.toLocaleString()} of ${u.total.toLocaleString()} rows${u.failed ? html`, <strong class="error">${u.failed.toLocaleString()} failed</strong>` : nothing}` : nothing}
          </p>`
          : nothing
      }
    </form>`;
  }

  protected override render() {
    return html`${this.renderUpload()}${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}${this.batches.render(
      {
        pending: loading,
        complete: (page) =>
          page.items.length === 0
            ? howToIngest()
            : html`<table>
              <thead><tr><th>batch</th><th>dataset</th><th>status</th><th class="num">rows</th><th class="num">ingested</th><th class="num">failed</th><th>uploaded</th><th></th></tr></thead>
              <tbody>${page.items.map(
                (
                  b,
                ) => html`<tr><td>${b.batchId}</td><td>${b.dataset}</td><td>${b.status}</td><td class="num">${b.rows.total}</td><td class="num">${b.rows.ingested}</td><td class="num">${b.rows.failed}</td><td>${b.createdAt}</td>
                  <td>${b.rows.failed ? html`<button class="action" @click=${() => this.downloadErrors(b.batchId)}>Errors</button>` : nothing}</td></tr>`,
              )}</tbody>
            </table>`,
        error: failed,
      },
    )}`;
  }
}

defineElement("tessera-console-batches", ConsoleBatches);

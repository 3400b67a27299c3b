import { createContext } from "@lit/context";
import type { ClientResponse } from "hono/client";
import {
  createClient,
  type SuccessBody,
  type TesseraClient,
  TesseraError,
  unwrap,
} from "../../client/index.js";

/**
 * The console's API handle: the typed client (client/) with the admin key, and one way to
 * read answers — the 2xx body, or an Error with the API's own message and code. A refused
 * key calls `onUnauthorized`, so the shell can ask for another.
 */
export class ConsoleApi {
  readonly client: TesseraClient;

  constructor(
    readonly key: string,
    private readonly onUnauthorized: () => void,
  ) {
    this.client = createClient({ baseUrl: location.origin, key });
  }

  /** Awaits a client call: its body, or an Error worded for people. */
  async read<R extends ClientResponse<any, number, string>>(
    call: R | Promise<R>,
  ): Promise<SuccessBody<R>> {
    try {
      return await unwrap(call);
    } catch (err) {
      if (err instanceof TesseraError) {
        if (err.status === 401) {
          this.onUnauthorized();
          throw new Error("That key is not valid.");
        }
        // The details name the field and the fix ("rule.op: …"): show them, not only the headline.
        const details = (err.details ?? [])
          .slice(0, 3)
          .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
        throw new Error(
          `${err.apiMessage}${details.length ? ` — ${details.join("; ")}` : ""} (${err.code})`,
        );
      }
      throw err;
    }
  }

  /** A text answer (CSV, NDJSON): the body, or the same Errors as `read`. */
  async text(call: Promise<ClientResponse<unknown, number, string>>): Promise<string> {
    const response = await call;
    if (!response.ok) await this.read(Promise.resolve(response));
    return response.text();
  }

  /** Uploads a CSV or NDJSON file as a batch (`POST /v1/batches`, the file itself as the body). */
  async upload(dataset: string, file: File): Promise<{ batchId: string }> {
    const format = /\.(ndjson|jsonl)$/i.test(file.name) ? "ndjson" : "csv";
    const response = fetch(
      `${location.origin}/v1/batches?${new URLSearchParams({ dataset, format })}`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.key}`,
          "content-type": format === "csv" ? "text/csv" : "application/x-ndjson",
        },
        body: file,
      },
    );
    return this.read(
      response as unknown as Promise<ClientResponse<{ batchId: string }, 202, "json">>,
    );
  }

  /** Saves text as a file in the browser. */
  static download(text: string, type: string, filename: string) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type }));
    link.download = filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }
}

export const apiContext = createContext<ConsoleApi>(Symbol("tessera-console-api"));

import { createContext } from "@lit/context";

/** The console's API handle: the admin key and one way to call the API and read its errors. */
export class ConsoleApi {
  constructor(
    readonly key: string,
    /** Called when the key is refused, so the shell can ask for another. */
    private readonly onUnauthorized: () => void,
  ) {}

  /** The JSON (or text) answer; throws an Error with the API's own message otherwise. */
  async get<T = any>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(path, { ...init, headers: { authorization: `Bearer ${this.key}`, ...(init.headers ?? {}) } });
    if (response.status === 401) {
      this.onUnauthorized();
      throw new Error("That key is not valid.");
    }
    if (!response.ok) {
      const body: any = await response.json().catch(() => undefined);
      const code = body?.error?.code ? ` (${body.error.code})` : "";
      throw new Error(`${body?.error?.message ?? `HTTP ${response.status}`}${code}`);
    }
    return (response.headers.get("content-type")?.includes("json") ? response.json() : response.text()) as Promise<T>;
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

// What the component tests share: a stubbed `fetch` that answers by path and records every
// request, a clean page after each test, text as a reader sees it, and axe-core's findings.
import axe from "axe-core";
import { afterEach, vi } from "vitest";

/** Each test starts from an empty page and the real `fetch`. */
export function cleanPageAfterEach() {
  afterEach(() => {
    document.body.replaceChildren();
    vi.restoreAllMocks();
  });
}

/** An element's text with white space collapsed. */
export const textOf = (el: Element | null | undefined) =>
  (el?.textContent ?? "").replace(/\s+/g, " ").trim();

/** The ids of axe-core's serious and critical findings on the page. */
export async function seriousAxeFindings(): Promise<string[]> {
  const results = await axe.run(document.body);
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id);
}

export interface Seen {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
}

type Answer = Response | (() => Response | Promise<Response>);

/** Replaces `fetch`: `routes` maps a path to its answer (a function may never settle); anything else is a 404. */
export function stubFetch(routes: Record<string, Answer>) {
  const seen: Seen[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    seen.push({
      url,
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : undefined,
    });
    const answer = routes[url.pathname];
    if (!answer) return new Response("{}", { status: 404 });
    // Like the real fetch: an abort rejects the call even while the answer is still coming.
    const aborted = new Promise<never>((_, reject) => {
      const signal = init?.signal;
      if (signal?.aborted) reject(new DOMException("aborted", "AbortError"));
      signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
    return Promise.race([typeof answer === "function" ? answer() : answer.clone(), aborted]);
  });
  return seen;
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** Waits until `check` passes (the elements render after their fetch settles). */
export const until = (check: () => void, timeout = 2_000) =>
  vi.waitFor(check, { timeout, interval: 10 });

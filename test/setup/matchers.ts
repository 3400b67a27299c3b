/**
 * `expect(res).toHaveStatus(200)`: a status assertion whose failure says why — the status,
 * the spec's error code and message, and the request id — instead of "expected 403 to be
 * 200". Works on `call()` results ({ status, json, text }) and on fetch Responses (the
 * typed client's answers), whose body it cannot read synchronously: there it prints the
 * request id header, and `unwrap` (client/) gives the full error.
 */
import { expect } from "vitest";

interface Answer {
  status: number;
  json?: any;
  text?: string;
  headers?: Headers;
}

export function describeAnswer(answer: Answer): string {
  const error = answer.json?.error;
  const requestId = error?.requestId ?? answer.headers?.get?.("x-request-id") ?? undefined;
  const what = error?.code
    ? `${error.code}: ${error.message}${error.details ? ` ${JSON.stringify(error.details)}` : ""}`
    : answer.text !== undefined
      ? `body ${JSON.stringify(answer.text.slice(0, 300))}`
      : "";
  return `${answer.status}${what ? ` ${what}` : ""}${requestId ? ` (request ${requestId})` : ""}`;
}

expect.extend({
  toHaveStatus(received: Answer, expected: number) {
    const pass = received?.status === expected;
    return {
      pass,
      message: () =>
        pass
          ? `expected the answer not to have status ${expected}`
          : `expected status ${expected}, got ${describeAnswer(received)}`,
      actual: received?.status,
      expected,
    };
  },
});

declare module "vitest" {
  interface Matchers<T = any> {
    toHaveStatus(status: number): T;
  }
}

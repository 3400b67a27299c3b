import { describe, expect, it } from "vitest";
import { TesseraError, unwrap } from "../../client/index.js";

const forbidden = {
  error: { code: "forbidden", message: "this key lacks the admin scope", requestId: "req-123" },
};

describe("failures say why", () => {
  it("a failing status assertion prints the status, error code, message and request id", () => {
    const answer = { status: 403, json: forbidden, text: JSON.stringify(forbidden) };
    expect(() => expect(answer).toHaveStatus(200)).toThrowError(
      "expected status 200, got 403 forbidden: this key lacks the admin scope (request req-123)",
    );
    expect(answer).toHaveStatus(403);
  });

  it("on a body that is not the error shape, the assertion prints the body", () => {
    expect(() =>
      expect({ status: 502, text: "<html>bad gateway</html>" }).toHaveStatus(200),
    ).toThrowError('expected status 200, got 502 body "<html>bad gateway</html>"');
  });

  it("the typed client's unwrap throws a TesseraError with the same facts", async () => {
    const response = new Response(JSON.stringify(forbidden), {
      status: 403,
      headers: { "content-type": "application/json" },
    });
    const error = await unwrap(Promise.resolve(response as never)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toMatchObject({
      status: 403,
      code: "forbidden",
      apiMessage: "this key lacks the admin scope",
      requestId: "req-123",
    });
    expect(String((error as Error).message)).toBe(
      "403 forbidden: this key lacks the admin scope (request req-123)",
    );
  });

  it("unwrap returns the body of a 2xx answer and nothing for 204", async () => {
    const ok = new Response(JSON.stringify({ accepted: 1 }), { status: 200 });
    await expect(unwrap(Promise.resolve(ok as never))).resolves.toEqual({ accepted: 1 });
    await expect(
      unwrap(Promise.resolve(new Response(null, { status: 204 }) as never)),
    ).resolves.toBeUndefined();
  });
});

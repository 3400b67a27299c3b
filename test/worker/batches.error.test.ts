import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_KEY, call, uploadFile } from "../helpers";

describe("batch files: refused before anything is stored", () => {
  it("rejects unknown datasets, forms and oversized files before storing anything", async () => {
    expect((await uploadFile("a\n1\n", "dataset=missing&format=csv")).json.error.code).toBe(
      "unknown_dataset",
    );
    const form = await uploadFile(
      "x",
      "dataset=default&format=csv",
      "multipart/form-data; boundary=x",
    );
    expect(form).toHaveStatus(415);
    const huge = await exports.default.fetch(
      new Request("https://tessera.test/v1/batches?dataset=default&format=csv", {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          "content-type": "text/csv",
          "content-length": String(101 * 1024 * 1024),
        },
        body: "a",
      }),
    );
    expect(huge).toHaveStatus(413);
    expect(await call("GET", "/v1/batches/bat_nope")).toHaveStatus(404);
  });
});

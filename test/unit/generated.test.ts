/**
 * Generated files are current: the writer's copy of the D1 migrations
 * (worker/writer/schema.generated.ts) is regenerated from migrations/*.sql and compared.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OUTPUT, writerSchemaSource } from "../../scripts/writer-schema.mjs";

describe("generated files", () => {
  it("worker/writer/schema.generated.ts matches migrations/ (run `npm run db:generate`)", () => {
    expect(readFileSync(OUTPUT, "utf8")).toBe(writerSchemaSource());
  });
});

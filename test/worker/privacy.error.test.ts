import { describe, expect, it } from "vitest";
import { apiClient, createKey, id, postRecords, unwrap } from "../helpers";

/** Erase, export and suppressions refuse what they must, in the spec's error shape. */
describe("privacy: refusals", () => {
  it("erase needs profiles:delete; an unknown identity is 404, a malformed one 400", async () => {
    await postRecords([
      { dataset: "default", identities: [id("crm", "KEEP-1")], attributes: { firstName: "Kim" } },
    ]);
    const reader = apiClient(await createKey(["profiles:read"]));
    const profile = reader.v1.profiles["by-identity"][":namespace"][":id"];
    await expect(
      unwrap(profile.$delete({ param: { namespace: "crm", id: "KEEP-1" }, query: {} })),
    ).rejects.toMatchObject({ status: 403, code: "forbidden" });
    // Still there: the refusal changed nothing.
    await expect(
      unwrap(profile.$get({ param: { namespace: "crm", id: "KEEP-1" }, query: {} })),
    ).resolves.toMatchObject({ attributes: { firstName: "Kim" } });

    const eraser = apiClient(await createKey(["profiles:delete"])).v1.profiles["by-identity"][
      ":namespace"
    ][":id"];
    await expect(
      unwrap(eraser.$delete({ param: { namespace: "crm", id: "NOBODY" }, query: {} })),
    ).rejects.toMatchObject({ status: 404, code: "not_found" });
    await expect(
      unwrap(eraser.$delete({ param: { namespace: "email", id: "not-an-email" }, query: {} })),
    ).rejects.toMatchObject({ status: 400, code: "invalid_identity" });
  });

  it("the data export needs profiles:read; suppressions need profiles:delete", async () => {
    const ingestOnly = apiClient(await createKey(["ingest"]));
    await expect(
      unwrap(
        ingestOnly.v1.profiles["by-identity"][":namespace"][":id"].export.$get({
          param: { namespace: "crm", id: "KEEP-1" },
        }),
      ),
    ).rejects.toMatchObject({ status: 403 });
    await expect(unwrap(ingestOnly.v1.suppressions.$get({ query: {} }))).rejects.toMatchObject({
      status: 403,
    });
    const eraser = apiClient(await createKey(["profiles:delete"]));
    await expect(
      unwrap(eraser.v1.suppressions.$delete({ query: { identity: "crm:NEVER-SUPPRESSED" } })),
    ).rejects.toMatchObject({ status: 404, code: "not_found" });
  });
});

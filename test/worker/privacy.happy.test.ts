import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  api,
  id,
  iso,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  send,
  uploadFile,
  waitForBatch,
} from "../helpers";

const T = Date.now() - 3 * 24 * 3600_000;
const person = {
  records: [
    {
      dataset: "crm",
      identities: [
        id("crm", "ERASE-1"),
        id("email", "Erase.Me@Example.com"),
        id("phone", "+31 6 11112222"),
      ],
      attributes: { firstName: "Erin", lastName: "Raser" },
      timestamp: iso(T),
    },
    {
      dataset: "loyalty",
      identities: [id("loyalty", "EL-1"), id("crm", "ERASE-1")],
      attributes: { loyalty: { tier: "gold" } },
      timestamp: iso(T),
    },
  ],
  events: [
    {
      id: "erase-ev-1",
      type: "purchase",
      timestamp: iso(T),
      identities: [id("crm", "ERASE-1")],
      data: { amount: 10 },
    },
    {
      id: "erase-ev-2",
      type: "page.view",
      timestamp: iso(T),
      identities: [id("device", "erase-device-000001"), id("email", "erase.me@example.com")],
    },
  ],
};
const oldIdentities = [
  ["crm", "ERASE-1"],
  ["email", "erase.me@example.com"],
  ["phone", "+31611112222"],
  ["loyalty", "EL-1"],
  ["device", "erase-device-000001"],
];

async function ingestPerson() {
  await putDataset("crm", { kind: "records" });
  await putDataset("loyalty", { kind: "records" });
  await postRecords(person.records);
  await postEvents(person.events);
  // …and through a batch file.
  const csv = "identity.crm,identity.email,note\nERASE-1,erase.me@example.com,from a file\n";
  const upload = await uploadFile(csv, "dataset=crm&format=csv");
  expect(upload).toHaveStatus(202);
  await waitForBatch(upload.json.batchId);
}

describe("privacy erase", () => {
  it("erases every trace; nothing is returned afterwards; re-sends are suppressed item by item", async () => {
    await ingestPerson();
    const before = await lookup("crm", "ERASE-1", { include: "events" });
    expect(before).toHaveStatus(200);
    expect(before.json.attributes.note).toBe("from a file");
    const profileId = before.json.profileId;

    const exportCopy = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].export.$get({
        param: { namespace: "email", id: "erase.me@example.com" },
      }),
    );
    expect(exportCopy).toHaveStatus(200);
    expect((exportCopy.json.events as { id: string }[]).map((e) => e.id).sort()).toEqual([
      "erase-ev-1",
      "erase-ev-2",
    ]);
    expect((exportCopy.json.fragments as unknown[]).length).toBe(2);

    const receipt = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
        param: { namespace: "email", id: "Erase.Me@example.com" },
        query: {},
      }),
    );
    expect(receipt).toHaveStatus(200);
    expect(receipt.json).toEqual({
      profileId,
      erased: { identities: 5, fragments: 2, events: 2 },
      suppressed: true,
    });

    for (const [ns, value] of oldIdentities) {
      expect(await lookup(ns!, value!)).toHaveStatus(404);
      expect(
        await send(
          api.v1.identities[":namespace"][":id"].graph.$get({
            param: { namespace: ns!, id: value! },
          }),
        ),
      ).toHaveStatus(404);
      expect(
        await send(
          api.v1.profiles["by-identity"][":namespace"][":id"].export.$get({
            param: { namespace: ns!, id: value! },
          }),
        ),
      ).toHaveStatus(404);
    }
    expect(
      await send(api.v1.profiles[":profileId"].$get({ param: { profileId }, query: {} })),
    ).toHaveStatus(404);
    expect(
      await send(api.v1.profiles[":profileId"].events.$get({ param: { profileId }, query: {} })),
    ).toHaveStatus(404);
    for (const q of ["erin", "raser", "erase", "ERASE-1"])
      expect((await send(api.v1.profiles.$get({ query: { q } }))).json.items).toEqual([]);
    expect(
      (await send(api.v1.profiles.$get({ query: { "attr.loyalty.tier": "gold" } }))).json.items,
    ).toEqual([]);
    // Nothing left in any table that names them.
    const leftovers = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM identities WHERE value LIKE '%erase%' OR value = 'EL-1' OR value = '+31611112222') +
              (SELECT count(*) FROM events WHERE id LIKE 'erase-ev-%') +
              (SELECT count(*) FROM profile_terms WHERE profile_id = ?1) +
              (SELECT count(*) FROM graph_history WHERE identities LIKE '%erase%') +
              (SELECT count(*) FROM attribute_index a WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.id = a.identity_id)) AS n`,
    )
      .bind(profileId)
      .first<{ n: number }>();
    expect(leftovers!.n).toBe(0);
    const suppressed = await send(api.v1.suppressions.$get({ query: {} }));
    expect(suppressed.json.items).toHaveLength(5);
    expect(JSON.stringify(suppressed.json)).not.toMatch(/erase|ERASE|EL-1|3161111/);

    // The original records and events again: rejected item by item, nothing recreated.
    const records = await postRecords(person.records);
    expect(records.accepted).toBe(0);
    expect(records.rejected.map((r) => r.error.code)).toEqual([
      "suppressed_identity",
      "suppressed_identity",
    ]);
    const events = await postEvents(person.events);
    expect(events.rejected.map((r) => r.error.code)).toEqual([
      "suppressed_identity",
      "suppressed_identity",
    ]);
    expect(await lookup("crm", "ERASE-1")).toHaveStatus(404);

    // Lifting one suppression lets that identity back in.
    expect(
      await send(api.v1.suppressions.$delete({ query: { identity: "loyalty:EL-1" } })),
    ).toHaveStatus(204);
    const back = await postRecords([
      {
        dataset: "loyalty",
        identities: [id("loyalty", "EL-1")],
        attributes: { loyalty: { tier: "silver" } },
      },
    ]);
    expect(back.accepted).toBe(1);
  });

  it("with ?suppress=false a re-send creates a fresh profile", async () => {
    await postRecords([
      { dataset: "default", identities: [id("crm", "FRESH-1")], attributes: { firstName: "Fay" } },
    ]);
    const old = (await lookup("crm", "FRESH-1")).json.profileId;
    const receipt = await send(
      api.v1.profiles["by-identity"][":namespace"][":id"].$delete({
        param: { namespace: "crm", id: "FRESH-1" },
        query: { suppress: "false" },
      }),
    );
    expect(receipt.json.suppressed).toBe(false);
    const again = await postRecords([
      { dataset: "default", identities: [id("crm", "FRESH-1")], attributes: { firstName: "Fay" } },
    ]);
    expect(again.accepted).toBe(1);
    const fresh = await lookup("crm", "FRESH-1");
    expect(fresh).toHaveStatus(200);
    expect(fresh.json.profileId).not.toBe(old);
  });
});

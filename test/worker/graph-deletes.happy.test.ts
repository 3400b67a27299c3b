/**
 * A split made by a delete is a split like any other (SPEC rule 4, §5 webhooks): the parts
 * are re-evaluated for segments at once, their display names follow their data, and
 * `profile.split` is delivered — not only when a later ingest touches the profiles.
 */
import { describe, expect, it } from "vitest";
import {
  api,
  id,
  iso,
  type JsonBody,
  lookup,
  postEvents,
  postRecords,
  putDataset,
  putDestination,
  putSegment,
  send,
} from "../helpers";

const T0 = Date.now() - 3_600_000;

const segmentsOf = async (ns: string, value: string) => {
  const res = await lookup(ns, value, { include: "segments" });
  expect(res).toHaveStatus(200);
  return {
    profileId: res.json.profileId as string,
    displayName: res.json.displayName as string | null,
    realized: (res.json.segments as { id: string; status: string }[])
      .filter((s) => s.status === "realized")
      .map((s) => s.id),
  };
};

/** The destination's deliveries, newest first. */
const deliveries = async () =>
  (
    await send(
      api.v1.destinations[":name"].deliveries.$get({
        param: { name: "split-hooks" },
        query: { limit: "100" },
      }),
    )
  ).json.items as {
    id: string;
    type: string;
    profileId: string;
  }[];

/**
 * A gold record on an e-mail address, joined to a crm id through a device seen with each
 * (email — device — crm): one profile, in the gold segment.
 */
async function goldPerson(tag: string) {
  const email = `gold-${tag}@example.com`;
  const crm = `GOLD-${tag}`;
  const device = `split-device-${tag}-000001`;
  await postRecords([
    {
      dataset: "split-loyalty",
      identities: [id("email", email)],
      attributes: { firstName: "Gold", loyalty: { tier: "gold" } },
    },
  ]);
  await postEvents([
    {
      type: "page.view",
      timestamp: iso(T0),
      identities: [id("email", email), id("device", device)],
    },
    {
      type: "page.view",
      timestamp: iso(T0 + 1000),
      identities: [id("crm", crm), id("device", device)],
    },
  ]);
  const joined = await segmentsOf("crm", crm);
  expect(joined.realized).toEqual(["split-gold"]);
  expect((await segmentsOf("email", email)).profileId).toBe(joined.profileId);
  return { email, crm, device, profileId: joined.profileId };
}

describe("a split by a delete", () => {
  it("setup: a records dataset, a gold segment and a webhook destination for splits and segment changes", async () => {
    expect(await putDataset("split-loyalty", { kind: "records" })).toHaveStatus(200);
    expect(
      await putSegment("split-gold", {
        name: "Gold",
        rule: { attr: "loyalty.tier", op: "eq", value: "gold" },
      }),
    ).toHaveStatus(200);
    const hook: JsonBody<(typeof api.v1.destinations)[":name"]["$put"]> = {
      type: "webhook",
      url: "https://hooks.example.com/split",
      events: ["profile.split", "segment.entered", "segment.exited"],
    };
    expect(await putDestination("split-hooks", hook)).toHaveStatus(200);
  });

  it.each([
    [
      "unlinking the e-mail address from the device",
      (p: { email: string; device: string }) =>
        api.v1.links.$delete({ query: { from: `email:${p.email}`, to: `device:${p.device}` } }),
    ],
    [
      "deleting the device that joined them",
      (p: { email: string; device: string }) =>
        api.v1.identities[":namespace"][":id"].$delete({
          param: { namespace: "device", id: p.device },
        }),
    ],
  ])("by %s re-evaluates both parts' segments and delivers profile.split", async (how, remove) => {
    const person = await goldPerson(how.startsWith("unlinking") ? "unlink" : "delete");
    const before = new Set((await deliveries()).map((d) => d.id));
    expect(await send(remove(person))).toHaveStatus(200);

    // The crm part keeps the profile id (highest priority) but not the gold record: it exits.
    const crmPart = await segmentsOf("crm", person.crm);
    expect(crmPart.profileId).toBe(person.profileId);
    expect(crmPart.realized).toEqual([]);
    expect(crmPart.displayName).not.toBe("Gold");

    const sent = (await deliveries()).filter((d) => !before.has(d.id));
    expect(sent).toContainEqual(
      expect.objectContaining({ type: "profile.split", profileId: person.profileId }),
    );
    expect(sent).toContainEqual(
      expect.objectContaining({ type: "segment.exited", profileId: person.profileId }),
    );

    // The e-mail part is a new profile holding the gold record: it enters, and is named by it.
    const emailPart = await segmentsOf("email", person.email);
    expect(emailPart.profileId).not.toBe(person.profileId);
    expect(emailPart.realized).toEqual(["split-gold"]);
    expect(emailPart.displayName).toBe("Gold");
    expect(sent).toContainEqual(
      expect.objectContaining({ type: "segment.entered", profileId: emailPart.profileId }),
    );
  });
});

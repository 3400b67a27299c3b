import { describe, expect, it } from "vitest";
import { GraphWorkspace } from "../../worker/graph/workspace";
import { builtInRules, ids, ref } from "./graph-fixtures";

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function workspace(maxIdentities = 50) {
  return new GraphWorkspace(builtInRules(maxIdentities), ids());
}

describe("identity graph scenarios (SPEC rule 3 & 4)", () => {
  it("an older sighting of an identity rewrites its profile's primary (oldest of equal priority)", () => {
    const ws = workspace();
    const p = ws.observe([ref("email:e1@x.io"), ref("email:e3@x.io")], "crm", T0 + 14 * MIN);
    expect(ws.primaryIdentity(p)?.key).toBe("email:e1@x.io"); // same age: the key decides
    ws.changedProfiles.clear();
    ws.observe([ref("email:e3@x.io")], "web", T0 + 13 * MIN); // an event from before
    expect(ws.primaryIdentity(p)?.key).toBe("email:e3@x.io");
    // The profile is written again, so its stored primary follows (a group of both calls and
    // the calls one by one store the same).
    expect(ws.changeset().profiles.map((c) => [c.id, c.primary.key])).toEqual([
      [p, "email:e3@x.io"],
    ]);
  });

  it("shared device follows its most recent login; history shows the move", () => {
    const ws = workspace();
    const pA = ws.observe(
      [ref("device:shared-device-0001"), ref("crm:A"), ref("email:a@x.com")],
      "web",
      T0,
    );
    const pB = ws.observe([ref("device:shared-device-0001"), ref("crm:B")], "web", T0 + MIN);
    expect(pB).not.toBe(pA);
    expect(ws.profileOf("device:shared-device-0001")).toBe(pB);
    expect([...ws.members.get(pA)!].sort()).toEqual(["crm:A", "email:a@x.com"]);
    expect([...ws.members.get(pB)!].sort()).toEqual(["crm:B", "device:shared-device-0001"]);
    expect(ws.history).toContainEqual(
      expect.objectContaining({
        kind: "move",
        identities: ["device:shared-device-0001"],
        profiles: [pA, pB],
      }),
    );
    // The old login's link is kept on record, not applied.
    const links = [...ws.links.values()];
    expect(links.find((l) => l.a === "crm:A" && l.b === "device:shared-device-0001")?.applied).toBe(
      false,
    );
  });

  it("60 devices on one e-mail: 50 identities stay (the 49 newest devices), 11 split off", () => {
    const ws = workspace();
    const device = (i: number) => `device:dev-${String(i).padStart(14, "0")}`;
    let emailProfile = "";
    for (let i = 0; i < 60; i++)
      emailProfile = ws.observe([ref("email:busy@x.com"), ref(device(i))], "web", T0 + i * MIN);
    const graph = ws.members.get(ws.profileOf("email:busy@x.com")!)!;
    expect(graph.size).toBe(50);
    for (let i = 11; i < 60; i++) expect(graph.has(device(i))).toBe(true);
    for (let i = 0; i < 11; i++) {
      const own = ws.profileOf(device(i))!;
      expect(own).not.toBe(emailProfile);
      expect([...ws.members.get(own)!]).toEqual([device(i)]);
    }
    expect(ws.history.filter((h) => h.kind === "evict")).toHaveLength(11);
  });

  it("a crm id seen with 7 e-mails keeps the 5 most recently seen", () => {
    const ws = workspace();
    for (let i = 0; i < 7; i++)
      ws.observe([ref("crm:42"), ref(`email:e${i}@x.com`)], "crm", T0 + i * MIN);
    const graph = [...ws.members.get(ws.profileOf("crm:42")!)!].sort();
    expect(graph).toEqual([
      "crm:42",
      "email:e2@x.com",
      "email:e3@x.com",
      "email:e4@x.com",
      "email:e5@x.com",
      "email:e6@x.com",
    ]);
    // Seeing an old e-mail again brings it back and pushes out the now-oldest one.
    ws.observe([ref("crm:42"), ref("email:e0@x.com")], "crm", T0 + 10 * MIN);
    expect(ws.members.get(ws.profileOf("crm:42")!)!.has("email:e0@x.com")).toBe(true);
    expect(ws.members.get(ws.profileOf("crm:42")!)!.has("email:e2@x.com")).toBe(false);
  });

  it("two crm ids are never joined", () => {
    const ws = workspace();
    const p1 = ws.observe([ref("crm:1"), ref("email:shared@x.com")], "crm", T0);
    ws.observe([ref("crm:2"), ref("email:shared@x.com")], "crm", T0 + MIN);
    expect(ws.profileOf("crm:1")).not.toBe(ws.profileOf("crm:2"));
    expect(ws.profileOf("crm:1")).toBe(p1);
  });

  it("deleting the middle of a chain splits it; the higher-priority part keeps the id", () => {
    const ws = workspace();
    // a = crm (100) – b = email (80) – c = device (10), linked as a chain by two items.
    const p = ws.observe([ref("crm:a"), ref("email:b@x.com")], "crm", T0);
    ws.observe([ref("email:b@x.com"), ref("device:device-c-000000001")], "web", T0 + MIN);
    expect(ws.members.get(p)!.size).toBe(3);
    const parts = ws.deleteIdentity("email:b@x.com", T0 + 2 * MIN);
    expect(parts).toHaveLength(2);
    expect(ws.profileOf("crm:a")).toBe(p);
    expect(ws.profileOf("device:device-c-000000001")).not.toBe(p);
    expect(ws.history.map((h) => h.kind)).toEqual(expect.arrayContaining(["delete", "split"]));
  });

  it("deleting one link splits the graph and keeps both identities", () => {
    const ws = workspace();
    const p = ws.observe([ref("crm:a"), ref("email:b@x.com")], "crm", T0);
    ws.observe([ref("email:b@x.com"), ref("device:device-c-000000001")], "web", T0 + MIN);
    const { found } = ws.deleteLink("crm:a", "email:b@x.com", T0 + 2 * MIN);
    expect(found).toBe(true);
    expect(ws.profileOf("crm:a")).toBe(p);
    const other = ws.profileOf("email:b@x.com")!;
    expect(other).not.toBe(p);
    expect(ws.profileOf("device:device-c-000000001")).toBe(other);
  });

  it("a new higher-priority identity joins an existing profile without changing its id", () => {
    const ws = workspace();
    const p = ws.observe([ref("email:e@x.com"), ref("device:device-000000000001")], "web", T0);
    expect(ws.observe([ref("crm:9"), ref("email:e@x.com")], "crm", T0 + MIN)).toBe(p);
    expect(ws.history.filter((h) => h.kind === "merge")).toHaveLength(0);
  });

  it("an item joining two existing graphs records a merge", () => {
    const ws = workspace();
    const p1 = ws.observe([ref("crm:1"), ref("email:a@x.com")], "crm", T0);
    const p2 = ws.observe(
      [ref("device:device-000000000009"), ref("phone:+31612345678")],
      "web",
      T0,
    );
    const merged = ws.observe([ref("email:a@x.com"), ref("phone:+31612345678")], "web", T0 + MIN);
    expect(merged).toBe(p1);
    expect(ws.members.has(p2)).toBe(false);
    expect(ws.history).toContainEqual(
      expect.objectContaining({ kind: "merge", profiles: [p1, p2] }),
    );
  });
});

/**
 * `?dryRun=true` on ingest (SPEC §9): the answer the real call would give, plus what it
 * would do to identity graphs — and nothing stored.
 */
import { describe, expect, it } from "vitest";
import { call, id, postEvents, postRecords } from "../helpers";

describe("dry-run ingest", () => {
  it("answers what the call would do — a merge, a segment entry — and stores nothing", async () => {
    expect(
      await call("PUT", "/v1/segments/dry-gold", {
        body: { name: "Gold", rule: { attr: "tier", op: "eq", value: "gold" } },
      }),
    ).toHaveStatus(200);
    await postRecords([
      { dataset: "default", identities: [id("crm", "DRY-1")], attributes: { tier: "gold" } },
    ]);
    await postEvents([{ type: "visit", identities: [id("email", "dry-1@example.com")] }]);
    const crm = (await call("GET", "/v1/profiles/by-identity/crm/DRY-1")).json.profileId;
    const email = (await call("GET", "/v1/profiles/by-identity/email/dry-1@example.com")).json
      .profileId;

    const dry = await call("POST", "/v1/events?dryRun=true", {
      body: {
        events: [
          {
            type: "login",
            identities: [
              id("crm", "DRY-1"),
              id("email", "dry-1@example.com"),
              id("device", "dry-device-00000001"),
            ],
          },
          { type: "x", identities: [id("email", "not-an-email")] },
        ],
      },
    });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json).toMatchObject({
      dryRun: true,
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 1, error: { code: "invalid_identity" } }],
    });
    expect(dry.json.graph.merges).toHaveLength(1);
    const merge = dry.json.graph.merges[0];
    expect([merge.into, ...merge.profiles].sort()).toEqual([crm, email].sort());
    expect(dry.json.graph.profilesAffected).toBeGreaterThanOrEqual(2);
    // The e-mail profile joins the gold record's profile: if it survives the merge, it enters the segment.
    expect(dry.json.graph.sample.length).toBeGreaterThanOrEqual(1);
    expect(dry.json.graph.sample[0].after[0].identities).toEqual(
      expect.arrayContaining([
        "crm:DRY-1",
        "email:dry-1@example.com",
        "device:dry-device-00000001",
      ]),
    );

    // Nothing was stored: still two profiles, the device unknown, no login event.
    expect((await call("GET", "/v1/profiles/by-identity/crm/DRY-1")).json.profileId).toBe(crm);
    expect(
      (await call("GET", "/v1/profiles/by-identity/email/dry-1@example.com")).json.profileId,
    ).toBe(email);
    expect(await call("GET", "/v1/profiles/by-identity/device/dry-device-00000001")).toHaveStatus(
      404,
    );
    const events = (await call("GET", `/v1/profiles/${crm}/events`)).json.items.map(
      (e: any) => e.type,
    );
    expect(events).not.toContain("login");

    // The real call does what the dry run said.
    const real = await call("POST", "/v1/events", {
      body: {
        type: "login",
        identities: [
          id("crm", "DRY-1"),
          id("email", "dry-1@example.com"),
          id("device", "dry-device-00000001"),
        ],
      },
    });
    expect(real.json.profiles).toEqual([merge.into]);
  });

  it("a dry-run record shows the segment it would enter; atomic dry runs fail as the real call would", async () => {
    const dry = await call("POST", "/v1/records?dryRun=true", {
      body: { dataset: "default", identities: [id("crm", "DRY-2")], attributes: { tier: "gold" } },
    });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json.graph.segmentChanges).toEqual([
      { profileId: dry.json.profiles[0], segment: "dry-gold", from: "out", to: "realized" },
    ]);
    expect(await call("GET", "/v1/profiles/by-identity/crm/DRY-2")).toHaveStatus(404);
    const atomic = await call("POST", "/v1/records?dryRun=true&atomic=true", {
      body: {
        records: [
          { dataset: "default", identities: [id("crm", "DRY-3")] },
          { dataset: "nope", identities: [id("crm", "DRY-4")] },
        ],
      },
    });
    expect(atomic).toHaveStatus(400);
    expect(
      await call("POST", "/v1/records?dryRun=maybe", {
        body: { dataset: "default", identities: [id("crm", "DRY-5")] },
      }),
    ).toHaveStatus(400);
  });
});

describe("POST /v1/identities/simulate", () => {
  it("items: the effect on graphs, nothing written; invalid items, items with config, and neither are 400s", async () => {
    await postEvents([
      { type: "visit", identities: [id("crm", "SIM-1")] },
      { type: "visit", identities: [id("email", "sim-1@example.com")] },
    ]);
    const res = await call("POST", "/v1/identities/simulate", {
      body: {
        items: [
          { type: "login", identities: [id("crm", "SIM-1"), id("email", "sim-1@example.com")] },
          { dataset: "default", identities: [id("crm", "SIM-1")], attributes: { tier: "gold" } },
        ],
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.merges).toHaveLength(1);
    expect(res.json.segmentChanges).toContainEqual(
      expect.objectContaining({ segment: "dry-gold", to: "realized" }),
    );
    expect(res.json.truncated).toBe(false);
    expect((await call("GET", "/v1/profiles/by-identity/crm/SIM-1")).json.profileId).not.toBe(
      (await call("GET", "/v1/profiles/by-identity/email/sim-1@example.com")).json.profileId,
    );
    const bad = await call("POST", "/v1/identities/simulate", {
      body: { items: [{ type: "x", identities: [id("email", "nope")] }] },
    });
    expect(bad).toHaveStatus(400);
    expect(bad.json.error.details[0].path).toBe("items[0]");
    const both = await call("POST", "/v1/identities/simulate", {
      body: {
        items: [{ type: "x", identities: [id("crm", "SIM-1")] }],
        config: { namespaces: {} },
      },
    });
    expect(both).toHaveStatus(400);
    expect(both.json.error.details[0].path).toBe("config");
    expect(await call("POST", "/v1/identities/simulate", { body: {} })).toHaveStatus(400);
  });
});

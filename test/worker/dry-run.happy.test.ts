/**
 * `?dryRun=true` on ingest (SPEC §9): the answer the real call would give, plus what it
 * would do to identity graphs — and nothing stored.
 */
import { describe, expect, it } from "vitest";
import { api, call, id, lookup, postEvents, postRecords, putSegment, send } from "../helpers";

describe("dry-run ingest", () => {
  it("answers what the call would do — a merge, a segment entry — and stores nothing", async () => {
    expect(
      await putSegment("dry-gold", {
        name: "Gold",
        rule: { attr: "tier", op: "eq", value: "gold" },
      }),
    ).toHaveStatus(200);
    await postRecords([
      { dataset: "default", identities: [id("crm", "DRY-1")], attributes: { tier: "gold" } },
    ]);
    await postEvents([{ type: "visit", identities: [id("email", "dry-1@example.com")] }]);
    const crm = (await lookup("crm", "DRY-1")).json.profileId;
    const email = (await lookup("email", "dry-1@example.com")).json.profileId;

    const dry = await send(
      api.v1.events.$post({
        query: { dryRun: "true" },
        json: {
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
      }),
    );
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json).toMatchObject({
      dryRun: true,
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 1, error: { code: "invalid_identity" } }],
    });
    expect(dry.json.graph?.merges).toHaveLength(1);
    const merge = dry.json.graph?.merges[0];
    expect([merge?.into, ...(merge?.profiles ?? [])].sort()).toEqual([crm, email].sort());
    expect(dry.json.graph?.profilesAffected).toBeGreaterThanOrEqual(2);
    // The e-mail profile joins the gold record's profile: if it survives the merge, it enters the segment.
    expect(dry.json.graph?.sample.length).toBeGreaterThanOrEqual(1);
    expect(dry.json.graph?.sample[0]?.after[0]?.identities).toEqual(
      expect.arrayContaining([
        "crm:DRY-1",
        "email:dry-1@example.com",
        "device:dry-device-00000001",
      ]),
    );

    // Nothing was stored: still two profiles, the device unknown, no login event.
    expect((await lookup("crm", "DRY-1")).json.profileId).toBe(crm);
    expect((await lookup("email", "dry-1@example.com")).json.profileId).toBe(email);
    expect(await lookup("device", "dry-device-00000001")).toHaveStatus(404);
    const events = (
      await send(
        api.v1.profiles[":profileId"].events.$get({ param: { profileId: crm }, query: {} }),
      )
    ).json.items.map((e) => e.type);
    expect(events).not.toContain("login");

    // The real call does what the dry run said.
    const real = await send(
      api.v1.events.$post({
        query: {},
        json: {
          type: "login",
          identities: [
            id("crm", "DRY-1"),
            id("email", "dry-1@example.com"),
            id("device", "dry-device-00000001"),
          ],
        },
      }),
    );
    expect(real.json.profiles).toEqual([merge?.into]);
  });

  it("a dry-run record shows the segment it would enter; atomic dry runs fail as the real call would", async () => {
    const dry = await send(
      api.v1.records.$post({
        query: { dryRun: "true" },
        json: {
          dataset: "default",
          identities: [id("crm", "DRY-2")],
          attributes: { tier: "gold" },
        },
      }),
    );
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json.graph?.segmentChanges).toEqual([
      { profileId: dry.json.profiles[0], segment: "dry-gold", from: "out", to: "realized" },
    ]);
    expect(await lookup("crm", "DRY-2")).toHaveStatus(404);
    const atomic = await send(
      api.v1.records.$post({
        query: { dryRun: "true", atomic: "true" },
        json: {
          records: [
            { dataset: "default", identities: [id("crm", "DRY-3")], attributes: {} },
            { dataset: "nope", identities: [id("crm", "DRY-4")], attributes: {} },
          ],
        },
      }),
    );
    expect(atomic).toHaveStatus(400);
    // Not a value `dryRun` takes: raw, as the typed client refuses it.
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
    const res = await send(
      api.v1.identities.simulate.$post({
        json: {
          items: [
            { type: "login", identities: [id("crm", "SIM-1"), id("email", "sim-1@example.com")] },
            { dataset: "default", identities: [id("crm", "SIM-1")], attributes: { tier: "gold" } },
          ],
        },
      }),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.merges).toHaveLength(1);
    expect(res.json.segmentChanges).toContainEqual(
      expect.objectContaining({ segment: "dry-gold", to: "realized" }),
    );
    expect(res.json.truncated).toBe(false);
    expect((await lookup("crm", "SIM-1")).json.profileId).not.toBe(
      (await lookup("email", "sim-1@example.com")).json.profileId,
    );
    const bad = await send(
      api.v1.identities.simulate.$post({
        json: { items: [{ type: "x", identities: [id("email", "nope")] }] },
      }),
    );
    expect(bad).toHaveStatus(400);
    expect(bad.error?.details?.[0]?.path).toBe("items[0]");
    const both = await send(
      api.v1.identities.simulate.$post({
        json: {
          items: [{ type: "x", identities: [id("crm", "SIM-1")] }],
          config: { namespaces: {} },
        },
      }),
    );
    expect(both).toHaveStatus(400);
    expect(both.error?.details?.[0]?.path).toBe("config");
    expect(await send(api.v1.identities.simulate.$post({ json: {} }))).toHaveStatus(400);
  });
});

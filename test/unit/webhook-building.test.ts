/**
 * Building webhook deliveries from what the writer committed (worker/webhooks/outbox.ts),
 * in Node: who is subscribed to what, segment filters, consent per purpose, the attribute
 * allow-list, erasures carrying nothing personal, and one sequence number per delivery.
 * The HTTP tests (webhooks.security.test.ts) check delivery, signing and retries.
 */
import { describe, expect, it } from "vitest";
import type { WebhookDestinationConfig } from "../../shared/schemas/destinations";
import {
  type ActivationFact,
  buildDeliveries,
  graphActivation,
  type ProfileView,
} from "../../worker/webhooks/outbox";

const AT = Date.parse("2026-05-01T10:00:00Z");
const hook = (name: string, config: Partial<WebhookDestinationConfig>) => ({
  name,
  config: {
    type: "webhook" as const,
    url: `https://hooks.example.com/${name}`,
    events: [
      "segment.entered",
      "segment.exited",
      "profile.merged",
      "profile.split",
      "profile.erased",
    ],
    ...config,
  } as WebhookDestinationConfig,
});
const profiles: Record<string, ProfileView> = {
  p1: {
    primaryIdentity: { namespace: "crm", id: "C-1" },
    attributes: { firstName: "Ann", loyalty: { tier: "gold", points: 10 }, secret: "x" },
    consent: {
      marketing: { status: "granted", at: AT, source: "browser" },
      analytics: { status: "denied", at: AT, source: "browser" },
    },
  },
};
const view = (id: string) => profiles[id];
const sequence = () => {
  let n = 0;
  return () => ++n;
};
const build = (facts: ActivationFact[], destinations: ReturnType<typeof hook>[]) =>
  buildDeliveries(facts, destinations, view, sequence()).map((d) => ({
    ...d,
    body: JSON.parse(d.payload),
  }));

describe("webhook deliveries", () => {
  it("go to each destination subscribed to the event type and segment, in fact order, numbered", () => {
    const out = build(
      [
        { type: "segment.entered", profileId: "p1", at: AT, segmentId: "gold" },
        { type: "profile.merged", profileId: "p1", at: AT, profiles: ["p2"] },
      ],
      [
        hook("all", {}),
        hook("gold-only", { events: ["segment.entered"], segments: ["gold"] }),
        hook("silver-only", { events: ["segment.entered"], segments: ["silver"] }),
      ],
    );
    expect(out.map((d) => [d.destination, d.type, d.sequence])).toEqual([
      ["all", "segment.entered", 1],
      ["gold-only", "segment.entered", 2],
      ["all", "profile.merged", 3],
    ]);
    expect(out[0]!.body).toEqual({
      type: "segment.entered",
      timestamp: "2026-05-01T10:00:00.000Z",
      data: {
        profileId: "p1",
        sequence: 1,
        primaryIdentity: { namespace: "crm", id: "C-1" },
        segment: { id: "gold" },
      },
    });
    expect(out[2]!.body.data.profiles).toEqual(["p2"]);
  });

  it("carry only the allow-listed attributes", () => {
    const [d] = build(
      [{ type: "segment.entered", profileId: "p1", at: AT, segmentId: "gold" }],
      [hook("crm", { attributes: ["firstName", "loyalty.tier"] })],
    );
    expect(d!.body.data.attributes).toEqual({ firstName: "Ann", loyalty: { tier: "gold" } });
  });

  it("reach a destination with purposes only for profiles that granted them all", () => {
    const facts: ActivationFact[] = [
      { type: "segment.entered", profileId: "p1", at: AT, segmentId: "gold" },
    ];
    expect(build(facts, [hook("ads", { purposes: ["marketing"] })])).toHaveLength(1);
    expect(build(facts, [hook("stats", { purposes: ["marketing", "analytics"] })])).toHaveLength(0);
  });

  it("send a revocation's exit only where a revoked purpose was declared", () => {
    const exit: ActivationFact = {
      type: "segment.exited",
      profileId: "p1",
      at: AT,
      segmentId: "gold",
      reason: "consent",
      purposes: ["marketing"],
    };
    const out = build([exit], [hook("ads", { purposes: ["marketing"] }), hook("plain", {})]);
    expect(out.map((d) => d.destination)).toEqual(["ads"]);
    expect(out[0]!.body.data.reason).toBe("consent");
  });

  it("of an erasure carry the profile id only", () => {
    const [d] = build(
      [{ type: "profile.erased", profileId: "p1", at: AT }],
      [hook("crm", { attributes: ["firstName"] })],
    );
    expect(d!.body.data).toEqual({ profileId: "p1", sequence: 1 });
  });
});

describe("graph activation", () => {
  it("turns merges into profile.merged and splits and evictions into profile.split", () => {
    const entry = (kind: "merge" | "split" | "evict" | "move", profiles: string[]) => ({
      at: AT,
      kind,
      cause: "ingest" as const,
      identities: [],
      profiles,
    });
    expect(
      graphActivation([
        entry("merge", ["p1", "p2"]),
        entry("split", ["p1", "p3"]),
        entry("evict", ["p4", "p5"]),
        entry("move", ["p6", "p7"]),
      ]),
    ).toEqual([
      { type: "profile.merged", profileId: "p1", at: AT, profiles: ["p2"] },
      { type: "profile.split", profileId: "p1", at: AT, profiles: ["p3"] },
      { type: "profile.split", profileId: "p4", at: AT, profiles: ["p5"] },
    ]);
  });
});

/**
 * The Segment tracking API's mapping (worker/tracking/messages.ts), in Node: what each
 * message type becomes, whose identities it carries, the clock-skew correction, and the
 * refusals. The HTTP tests (tracking.*.test.ts) check the same through the real SDKs.
 */
import { describe, expect, it } from "vitest";
import { mapMessage } from "../../worker/tracking/messages";
import { trackingOf } from "../../worker/tracking/settings";

const RECEIVED = Date.parse("2026-03-01T12:00:00Z");
const ANON = "5f1c2d3e-aaaa-4bbb-8ccc-0123456789ab";
const options = { settings: trackingOf(null), receivedAt: RECEIVED, fallbackId: "call-1-0" };

const mapped = (message: unknown, type?: string, extra: Partial<typeof options> = {}) => {
  const result = mapMessage(message, type, { ...options, ...extra });
  if (!result.ok) throw new Error(`refused: ${result.error.code} ${result.error.message}`);
  return result;
};
const refusal = (message: unknown, type?: string) => {
  const result = mapMessage(message, type, options);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.item)}`);
  return result.error;
};

describe("tracking messages become events and records", () => {
  it("track: an event named by `event`, properties under data, the userId in the key's namespace", () => {
    const m = mapped(
      {
        userId: "42",
        anonymousId: ANON,
        event: "Order Completed",
        properties: { total: 30 },
        messageId: "msg-1",
        timestamp: "2026-03-01T11:00:00Z",
      },
      "track",
    );
    expect(m).toMatchObject({ kind: "events", messageId: "msg-1" });
    expect(m.item).toEqual({
      id: "msg-1",
      type: "Order Completed",
      timestamp: "2026-03-01T11:00:00.000Z",
      dataset: "default",
      identities: [
        { namespace: "crm", id: "42" },
        { namespace: "device", id: ANON },
      ],
      data: { properties: { total: 30 } },
    });
  });

  it("page and screen: page.view / screen.view with name, category and the useful context only", () => {
    const page = mapped(
      {
        anonymousId: ANON,
        name: "Home",
        category: "Landing",
        context: { page: { url: "https://shop.example/" }, ip: "203.0.113.9", userAgent: "UA" },
      },
      "page",
    );
    expect(page.item.type).toBe("page.view");
    // The ip is not kept: only the listed context fields are.
    expect(page.item.data).toEqual({
      name: "Home",
      category: "Landing",
      context: { page: { url: "https://shop.example/" }, userAgent: "UA" },
    });
    expect(mapped({ anonymousId: ANON }, "screen").item.type).toBe("screen.view");
  });

  it("identify: a record of the traits; e-mail and phone traits become identities", () => {
    const m = mapped(
      { type: "identify", userId: "7", traits: { email: "ann@example.com", plan: "pro" } },
      undefined,
    );
    expect(m).toMatchObject({ kind: "records", receipt: { type: "identify" } });
    expect(m.item).toMatchObject({
      dataset: "default",
      attributes: { email: "ann@example.com", plan: "pro" },
      identities: [
        { namespace: "crm", id: "7" },
        { namespace: "email", id: "ann@example.com" },
      ],
    });
  });

  it("group: the traits under groups.<groupId>; without a groupId it is refused", () => {
    const m = mapped({ userId: "7", groupId: "acme", traits: { seats: 5 } }, "group");
    expect(m.item.attributes).toEqual({ groups: { acme: { seats: 5 } } });
    expect(refusal({ userId: "7" }, "group")).toMatchObject({
      code: "invalid_request",
      details: [{ path: "groupId" }],
    });
  });

  it("alias: the previous id is the device when it is the anonymousId, else an earlier userId", () => {
    const fromDevice = mapped({ userId: "7", anonymousId: ANON, previousId: ANON }, "alias");
    expect(fromDevice.item.identities).toContainEqual({ namespace: "device", id: ANON });
    const fromUser = mapped({ userId: "7", previousId: "old-7" }, "alias");
    expect(fromUser.item.identities).toEqual([
      { namespace: "crm", id: "7" },
      { namespace: "crm", id: "old-7" },
    ]);
  });

  it("the key's mapping sets the userId namespace and the dataset", () => {
    const m = mapped({ userId: "u1", event: "x" }, "track", {
      settings: trackingOf({ userIdNamespace: "email", dataset: "web" }),
    });
    expect(m.item).toMatchObject({
      dataset: "web",
      identities: [{ namespace: "email", id: "u1" }],
    });
  });
});

describe("time and ids", () => {
  it("corrects the device's clock by receivedAt − sentAt (Segment's rule)", () => {
    const m = mapped(
      {
        userId: "1",
        event: "x",
        timestamp: "2026-03-01T10:00:00Z",
        sentAt: "2026-03-01T10:30:00Z", // the device clock is 1.5 h behind
      },
      "track",
    );
    expect(m.item.timestamp).toBe("2026-03-01T11:30:00.000Z");
  });

  it("no timestamp: the time it was received; no messageId: the call's fallback id", () => {
    const m = mapped({ userId: "1", event: "x" }, "track");
    expect(m.item.timestamp).toBe(new Date(RECEIVED).toISOString());
    expect(m.messageId).toBe("call-1-0");
  });
});

describe("refusals name the field", () => {
  it("refuses what cannot be mapped", () => {
    expect(refusal("not an object")).toMatchObject({ code: "invalid_request" });
    expect(refusal({ type: "shout", userId: "1" })).toMatchObject({ details: [{ path: "type" }] });
    expect(refusal({ event: "x" }, "track")).toMatchObject({ details: [{ path: "userId" }] });
    expect(refusal({ userId: "1" }, "track")).toMatchObject({ details: [{ path: "event" }] });
    expect(refusal({ anonymousId: "short" }, "page")).toMatchObject({
      code: "invalid_identity",
      details: [{ path: "anonymousId" }],
    });
    expect(refusal({ userId: "7" }, "alias")).toMatchObject({ details: [{ path: "previousId" }] });
  });
});

// The demo page shows two customers, one per banner: each must qualify for its own segment.
import { describe, expect, it } from "vitest";
import { customers, eventsFor, recordsFor } from "../../scripts/lib/demo-data.mjs";

const DAY = 86_400_000;

describe("demo data", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  const people = customers(50);
  const tierOf = (crm: string) =>
    recordsFor(people, now).find(
      (r: any) => r.dataset === "loyalty" && r.identities.some((i: any) => i.id === crm),
    )?.attributes?.loyalty?.tier;
  const recentPurchases = (crm: string) =>
    eventsFor(people, now).filter(
      (e: any) =>
        e.type === "purchase" &&
        e.identities.some((i: any) => i.id === crm) &&
        now - Date.parse(e.timestamp) <= 30 * DAY,
    ).length;

  it("gives the demo page's first customer the gold banner and the second the frequent-buyer one", () => {
    expect(tierOf("CUST-10000")).toBe("gold");
    expect(tierOf("CUST-10001")).toBe("silver");
    expect(recentPurchases("CUST-10001")).toBeGreaterThanOrEqual(2);
  });

  it("stays deterministic for everyone else", () => {
    expect(customers(50).map((p: any) => p.email)).toEqual(people.map((p: any) => p.email));
    expect(new Set(people.slice(2).map((p: any) => p.tier)).size).toBeGreaterThan(1);
  });
});

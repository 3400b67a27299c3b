// <tessera-profile-card> on its own: what it asks the API, what it renders, its parts,
// its error states and its accessibility, against a stubbed fetch.
import { describe, expect, it } from "vitest";
import "../../widget/src/index";
import type { TesseraProfileCard } from "../../widget/src/profile-card";
import { cleanPageAfterEach, json, seriousAxeFindings, stubFetch, textOf, until } from "./harness";

const PROFILE = {
  profileId: "pAbc123456789",
  displayName: "John Greene",
  primaryIdentity: { namespace: "email", id: "john.greene@luma.com" },
  identities: [
    { namespace: "email", id: "john.greene@luma.com" },
    { namespace: "crm", id: "CUST-10000" },
    { namespace: "device", id: "dev-0001" },
  ],
  attributes: { firstName: "John", loyalty: { tier: "gold" }, computed: { orders: 3 } },
  provenance: {
    firstName: {
      dataset: "crm",
      identity: { namespace: "crm", id: "CUST-10000" },
      timestamp: "2026-11-01T10:00:00Z",
    },
    "loyalty.tier": {
      dataset: "loyalty",
      identity: { namespace: "crm", id: "CUST-10000" },
      timestamp: "2026-11-02T10:00:00Z",
      name: "Loyalty tier",
    },
    "computed.orders": {
      dataset: "computed",
      identity: { namespace: "crm", id: "CUST-10000" },
      timestamp: "2026-11-03T10:00:00Z",
      computedAt: "2026-11-03T10:00:00Z",
      events: 3,
      name: "Orders",
    },
  },
  segments: [
    { id: "gold", name: "Gold members", status: "realized", since: "2026-11-02T10:00:00Z" },
    { id: "lapsed", name: "Lapsed", status: "exited", since: "2026-11-01T10:00:00Z" },
  ],
  events: [
    {
      id: "e1",
      type: "purchase",
      timestamp: "2026-11-03T10:00:00Z",
      data: { amount: 249, currency: "EUR", product: "Trail tent" },
    },
  ],
  updatedAt: "2026-11-03T10:00:00Z",
};

const PROFILE_PATH = "/v1/profiles/by-identity/email/john.greene%40luma.com";

function mount(attributes: Record<string, string>) {
  const card = document.createElement("tessera-profile-card") as TesseraProfileCard;
  for (const [name, value] of Object.entries(attributes)) card.setAttribute(name, value);
  document.body.appendChild(card);
  return card;
}
const part = (card: Element, name: string) => card.shadowRoot!.querySelector(`[part="${name}"]`);

cleanPageAfterEach();

describe("<tessera-profile-card>", () => {
  describe("properties", () => {
    it("asks the endpoint for the identity with the token, and shows the profile", async () => {
      const seen = stubFetch({ [PROFILE_PATH]: json(PROFILE) });
      const card = mount({
        endpoint: "https://tessera.example.com",
        token: "tok_agent",
        identity: "email:john.greene@luma.com",
      });
      await until(() => expect(textOf(part(card, "header"))).toContain("John Greene"));
      expect(seen).toHaveLength(1);
      expect(seen[0]!.url.origin).toBe("https://tessera.example.com");
      expect(seen[0]!.url.searchParams.get("include")).toBe("provenance,segments,events");
      expect(seen[0]!.headers.get("authorization")).toBe("Bearer tok_agent");
      expect(card.getAttribute("role")).toBe("region");
      expect(card.getAttribute("aria-label")).toBe("John Greene");
    });

    it("reads again when the identity changes", async () => {
      const other = {
        ...PROFILE,
        displayName: "Ann Jansen",
        primaryIdentity: { namespace: "crm", id: "CUST-2" },
      };
      const seen = stubFetch({
        [PROFILE_PATH]: json(PROFILE),
        "/v1/profiles/by-identity/crm/CUST-2": json(other),
      });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() => expect(textOf(part(card, "header"))).toContain("John Greene"));
      card.identity = "crm:CUST-2";
      await until(() => expect(textOf(part(card, "header"))).toContain("Ann Jansen"));
      expect(seen.map((s) => s.url.pathname)).toEqual([
        PROFILE_PATH,
        "/v1/profiles/by-identity/crm/CUST-2",
      ]);
    });

    it("layout=compact hides identities and activity; lang=nl speaks Dutch", async () => {
      stubFetch({ [PROFILE_PATH]: json(PROFILE) });
      const card = mount({ identity: "email:john.greene@luma.com", layout: "compact", lang: "nl" });
      await until(() => expect(part(card, "attributes")).not.toBeNull());
      expect(getComputedStyle(part(card, "identities")!).display).toBe("none");
      expect(part(card, "events")).toBeNull();
      expect(part(card, "attributes")!.getAttribute("aria-label")).toBe("Kenmerken");
    });

    it("theme=dark reflects and switches the colours; --tessera-* properties override them", async () => {
      stubFetch({ [PROFILE_PATH]: json(PROFILE) });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() => expect(part(card, "header")).not.toBeNull());
      const light = getComputedStyle(card).backgroundColor;
      card.theme = "dark";
      await card.updateComplete;
      expect(card.getAttribute("theme")).toBe("dark");
      expect(getComputedStyle(card).backgroundColor).not.toBe(light);
      card.style.setProperty("--tessera-card-bg", "rgb(1, 2, 3)");
      expect(getComputedStyle(card).backgroundColor).toBe("rgb(1, 2, 3)");
    });
  });

  describe("parts", () => {
    it("header, identities, attributes (computed first, under their names, with provenance), segments (realized only), events", async () => {
      stubFetch({ [PROFILE_PATH]: json(PROFILE) });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() => expect(part(card, "events")).not.toBeNull());
      const identities = [...part(card, "identities")!.querySelectorAll("dt")].map((dt) => [
        textOf(dt),
        textOf(dt.nextElementSibling),
      ]);
      expect(identities).toEqual([
        ["email", "john.greene@luma.com"],
        ["crm", "CUST-10000"],
        ["device", "dev-0001"],
      ]);
      // An attribute's name is its term's own text, without the provenance tooltip inside it.
      const nameOf = (dt: Element) =>
        textOf(dt)
          .replace(textOf(dt.querySelector("[role=tooltip]")), "")
          .trim();
      const names = [...part(card, "attributes")!.querySelectorAll("dt")].map(nameOf);
      expect(names).toEqual(["Orders", "firstName", "Loyalty tier"]);
      expect(textOf(part(card, "attributes")!.querySelector("[role=tooltip]"))).toMatch(
        /^Computed from 3 events at/,
      );
      expect(textOf(part(card, "segments"))).toBe("Segments Gold members");
      expect(textOf(part(card, "events"))).toContain("purchase €249.00 · Trail tent");
    });

    it("a profile with nothing known says so in the state part", async () => {
      stubFetch({
        [PROFILE_PATH]: json({
          ...PROFILE,
          attributes: {},
          provenance: {},
          segments: [],
          events: [],
        }),
      });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() =>
        expect(textOf(part(card, "state"))).toBe("Nothing is known about this person yet."),
      );
    });
  });

  describe("errors", () => {
    for (const [status, message] of [
      [401, /expired or is not valid/],
      [403, /not allowed/],
      [404, /No profile found for email:john.greene@luma.com/],
    ] as const) {
      it(`${status}: says what happened, in the state part`, async () => {
        stubFetch({ [PROFILE_PATH]: json({ error: { code: "x", message: "x" } }, status) });
        const card = mount({ identity: "email:john.greene@luma.com" });
        await until(() => expect(textOf(part(card, "state"))).toMatch(message));
        expect(part(card, "state")!.getAttribute("role")).toBe("status");
      });
    }

    it("a server error offers to try again, and trying again can succeed", async () => {
      let calls = 0;
      stubFetch({ [PROFILE_PATH]: () => (++calls === 1 ? json({}, 503) : json(PROFILE)) });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() =>
        expect(part(card, "state")?.querySelector("button")).toBeInstanceOf(HTMLButtonElement),
      );
      expect(textOf(part(card, "state"))).toMatch(/could not be loaded/);
      part(card, "state")!.querySelector("button")!.click();
      await until(() => expect(textOf(part(card, "header"))).toContain("John Greene"));
    });

    it("renders values as text, never as HTML", async () => {
      stubFetch({
        [PROFILE_PATH]: json({
          ...PROFILE,
          displayName: '<img src=x onerror="window.__xss=1">',
          attributes: { note: "<b>bold</b>" },
        }),
      });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() => expect(textOf(part(card, "header"))).toContain("<img"));
      expect(card.shadowRoot!.querySelector("img, b")).toBeNull();
      expect((window as { __xss?: number }).__xss).toBeUndefined();
    });
  });

  describe("accessibility", () => {
    it("has no serious or critical axe-core findings, light and dark", async () => {
      stubFetch({ [PROFILE_PATH]: json(PROFILE) });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() => expect(part(card, "events")).not.toBeNull());
      for (const theme of ["light", "dark"]) {
        card.theme = theme;
        await card.updateComplete;
        expect(await seriousAxeFindings()).toEqual([]);
      }
    });

    it("provenance is reachable by keyboard: each attribute name is focusable and describes its source", async () => {
      stubFetch({ [PROFILE_PATH]: json(PROFILE) });
      const card = mount({ identity: "email:john.greene@luma.com" });
      await until(() => expect(part(card, "attributes")).not.toBeNull());
      const dt = part(card, "attributes")!.querySelector("dt")!;
      expect(dt.tabIndex).toBe(0);
      const tip = card.shadowRoot!.getElementById(dt.getAttribute("aria-describedby")!);
      expect(tip?.getAttribute("role")).toBe("tooltip");
    });
  });
});

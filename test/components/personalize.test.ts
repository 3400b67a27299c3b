// <tessera-personalize> (with <tessera-field>) on its own: what it asks the API, which
// template it renders, the event it fires, the page view it sends, and how it fails —
// against a stubbed fetch.
import { describe, expect, it, vi } from "vitest";
import "../../widget/src/index";
import type { TesseraContextEvent } from "../../widget/src/events";
import type { TesseraPersonalize } from "../../widget/src/personalize";
import { cleanPageAfterEach, json, seriousAxeFindings, stubFetch, textOf, until } from "./harness";

const GOLD = {
  device: "d",
  known: true,
  segments: ["gold"],
  attributes: { firstName: "John", loyalty: { tier: "gold" } },
};

/** The element with the demo page's three templates; `key` last, as a page would set it. */
function mount(attributes: Record<string, string> = {}) {
  const el = document.createElement("tessera-personalize") as TesseraPersonalize;
  el.innerHTML = `<template segment="gold"><h1>Welcome back, <tessera-field path="firstName" fallback="friend"></tessera-field>!</h1><p>Tier: <tessera-field path="loyalty.tier"></tessera-field></p></template>
    <template segment="buyers"><h1>Good to see you again</h1></template>
    <template default><h1>Gear for every trail</h1></template>`;
  const events: TesseraContextEvent[] = [];
  el.addEventListener("tessera-context", (e) => events.push(e));
  for (const [name, value] of Object.entries({
    endpoint: "https://tessera.example.com",
    ...attributes,
  }))
    el.setAttribute(name, value);
  document.body.appendChild(el);
  return { el, events };
}
const heading = (el: Element) => textOf(el.querySelector('[part="content"] h1')) || undefined;

cleanPageAfterEach();

describe("<tessera-personalize>", () => {
  describe("properties", () => {
    it("asks for the visitor's context with the key, a device id and the identity token", async () => {
      const seen = stubFetch({ "/v1/context": json(GOLD), "/v1/collect": json({ accepted: 1 }) });
      const { el } = mount({ key: "pk_site", "identity-token": "eyJ.token", track: "none" });
      await until(() => expect(heading(el)).toBe("Welcome back, John!"));
      const context = seen.find((s) => s.url.pathname === "/v1/context")!;
      expect(context.url.origin).toBe("https://tessera.example.com");
      expect(context.url.searchParams.get("key")).toBe("pk_site");
      expect(context.url.searchParams.get("identityToken")).toBe("eyJ.token");
      expect(context.url.searchParams.get("device")).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    });

    it("waits for a key before asking anything, and asks again when the identity token changes", async () => {
      const seen = stubFetch({
        "/v1/context": () =>
          json(
            seen.at(-1)!.url.searchParams.has("identityToken")
              ? GOLD
              : { ...GOLD, known: false, segments: [], attributes: {} },
          ),
      });
      const { el } = mount({ track: "none" });
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toHaveLength(0);
      el.key = "pk_site";
      await until(() => expect(heading(el)).toBe("Gear for every trail"));
      el.identityToken = "eyJ.token";
      await until(() => expect(heading(el)).toBe("Welcome back, John!"));
      expect(seen.map((s) => s.url.searchParams.has("identityToken"))).toEqual([false, true]);
    });

    it("track=none sends no page view; otherwise one, as a simple text/plain request", async () => {
      const seen = stubFetch({ "/v1/context": json(GOLD), "/v1/collect": json({ accepted: 1 }) });
      const quiet = mount({ key: "pk_site", track: "none" });
      await until(() => expect(heading(quiet.el)).toBeDefined());
      const tracked = mount({ key: "pk_site" });
      await until(() =>
        expect(seen.filter((s) => s.url.pathname === "/v1/collect")).toHaveLength(1),
      );
      const collect = seen.find((s) => s.url.pathname === "/v1/collect")!;
      expect(collect.method).toBe("POST");
      expect(collect.headers.get("content-type")).toBe("text/plain");
      expect(JSON.parse(collect.body!).events[0]).toMatchObject({
        type: "page.view",
        data: { url: location.href },
      });
      expect(heading(tracked.el)).toBe("Welcome back, John!");
    });
  });

  describe("parts", () => {
    it("content holds the first template whose segment the visitor is in, in the light DOM; fields fill in as text", async () => {
      stubFetch({
        "/v1/context": json({
          ...GOLD,
          segments: ["buyers", "gold"],
          attributes: { firstName: "<b>John</b>" },
        }),
      });
      const { el } = mount({ key: "pk_site", track: "none" });
      await until(() => expect(heading(el)).toBe("Welcome back, <b>John</b>!"));
      expect(el.shadowRoot).toBeNull();
      expect(el.querySelector('[part="content"] b')).toBeNull();
      // An attribute the context lacks shows nothing (no fallback given) or the fallback.
      expect(el.querySelector('tessera-field[path="loyalty.tier"]')!.textContent).toBe("");
    });
  });

  describe("events", () => {
    it("tessera-context carries the context, bubbling and composed", async () => {
      stubFetch({ "/v1/context": json(GOLD) });
      const { events } = mount({ key: "pk_site", track: "none" });
      await until(() => expect(events).toHaveLength(1));
      expect(events[0]!.context).toEqual(GOLD);
      expect([events[0]!.bubbles, events[0]!.composed]).toEqual([true, true]);
    });
  });

  describe("errors", () => {
    it("an error answer renders the default template and fires tessera-context without a context", async () => {
      stubFetch({
        "/v1/context": json({ error: { code: "rate_limited", message: "slow down" } }, 429),
      });
      const { el, events } = mount({ key: "pk_site", track: "none" });
      await until(() => expect(heading(el)).toBe("Gear for every trail"));
      await until(() => expect(events).toHaveLength(1));
      expect(events[0]!.context).toBeUndefined();
    });

    it("a network failure renders the default template", async () => {
      vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("Failed to fetch"));
      const { el } = mount({ key: "pk_site", track: "none" });
      await until(() => expect(heading(el)).toBe("Gear for every trail"));
    });

    it("an API that never answers: the element gives up (its 1.5 s time-out) and renders the default template", async () => {
      stubFetch({ "/v1/context": () => new Promise<Response>(() => {}) });
      const { el, events } = mount({ key: "pk_site", track: "none" });
      await until(() => expect(heading(el)).toBe("Gear for every trail"), 5_000);
      expect(events.map((e) => e.context)).toEqual([undefined]);
    });
  });

  describe("accessibility", () => {
    it("has no serious or critical axe-core findings once personalized", async () => {
      stubFetch({ "/v1/context": json(GOLD) });
      const { el } = mount({ key: "pk_site", track: "none" });
      await until(() => expect(heading(el)).toBe("Welcome back, John!"));
      expect(await seriousAxeFindings()).toEqual([]);
    });
  });
});

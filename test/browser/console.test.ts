import { describe, expect, it } from "vitest";
import { adminKey, api, textOf, workerUrl } from "./api";
import { chromiumForFile } from "./chromium";
import { openTab, signIn } from "./console-page";

const chromium = chromiumForFile();

describe("the console", () => {
  it("asks for the key once, finds a profile, opens its card, graph and timeline; the dashboard draws charts", async () => {
    const page = await chromium.browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`${e.message} ${e.stack?.split("\n")[1] ?? ""}`));
    page.on(
      "console",
      (m) => void (/Content Security Policy/i.test(m.text()) && errors.push(m.text())),
    );
    const served = await page.goto(`${workerUrl}/console`);
    // Served under a strict policy and never framed; the checks below run under it.
    expect(served!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(served!.headers()["content-security-policy"]).not.toContain("unsafe-inline");
    expect(served!.headers()["x-frame-options"]).toBe("DENY");
    await signIn(page, false);
    await page.fill("tessera-console >> #q", "john");
    await expect
      .poll(() => textOf(page.locator("tessera-console >> ul.results")))
      .toContain("John Greene");
    await page.click("tessera-console >> ul.results button:has-text('John Greene')");
    await expect.poll(() => textOf(page.locator("tessera-profile-card >> h2"))).toBe("John Greene");
    expect(await textOf(page.locator("tessera-console >> .panel"))).toContain("History");
    expect(await page.evaluate(() => sessionStorage.getItem("tessera.console.key"))).toBe(adminKey);

    await openTab(page, "Dashboard");
    await expect
      .poll(() => page.locator("tessera-console >> svg[role=img]").count())
      .toBeGreaterThan(1);
    await page.screenshot({ path: "test-artifacts/console-dashboard.png", fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a webhook destination's recent deliveries and its failures", async () => {
    // Port 9 on loopback refuses connections: the delivery fails and stays failing.
    await api("PUT", "/v1/destinations/console-hook", {
      type: "webhook",
      url: "http://127.0.0.1:9/none",
      events: ["profile.erased"],
    });
    await api("POST", "/v1/events", {
      type: "visit",
      identities: [{ namespace: "crm", id: "console-erase-1" }],
    });
    await api("DELETE", "/v1/profiles/by-identity/crm/console-erase-1");
    await expect
      .poll(
        async () =>
          (await api("GET", "/v1/destinations/console-hook/deliveries")).items[0]?.attempts ?? 0,
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);

    const page = await chromium.browser.newPage();
    await signIn(page);
    await openTab(page, "Destinations");
    const panel = page.locator("tessera-console >> .destination:has-text('console-hook')");
    await expect.poll(() => textOf(panel)).toContain("profile.erased");
    expect(await textOf(panel)).toMatch(/1 failing/);
    expect(await textOf(panel)).toMatch(/TypeError|fetch|connect|refused|Network/i);
    await page.close();
  });

  it("lists computed attributes with their status, and defines one from a form (a bad one shows the API's error)", async () => {
    const page = await chromium.browser.newPage();
    await signIn(page);
    await openTab(page, "Computed");
    const form = page.locator("tessera-console >> form[aria-label='Define a computed attribute']");
    // A sum needs a field: the API's 400 is shown, nothing is stored.
    await form.locator("input[name=id]").fill("console-ltv");
    await form.locator("input[name=name]").fill("Console lifetime value");
    await form.locator("select[name=aggregate]").selectOption("sum");
    await form.locator("input[name=types]").fill("console.purchase");
    await form.locator("button[type=submit]").click();
    await expect.poll(() => textOf(form.locator("[role=alert]"))).toContain("invalid_request");
    await form.locator("input[name=field]").fill("data.amount");
    await form.locator("button[type=submit]").click();
    const table = page.locator("tessera-console >> tessera-console-computed >> table");
    await expect.poll(() => textOf(table)).toContain("Console lifetime value");
    expect(await textOf(table)).toMatch(
      /console-ltv\s*Console lifetime value\s*sum\s*data\.amount\s*console\.purchase/,
    );
    const stored = await api("GET", "/v1/computed-attributes/console-ltv");
    expect(stored).toMatchObject({
      name: "Console lifetime value",
      aggregate: "sum",
      field: "data.amount",
      filter: { type: ["console.purchase"] },
    });
    await api("DELETE", "/v1/computed-attributes/console-ltv");
    await page.close();
  });

  it("previews a namespace change on existing graphs, applies it, lists the run and reverts it", async () => {
    await api("PUT", "/v1/namespaces/console-card", { normalize: "trim", maxPerGraph: 3 });
    const scan = (card: string, minutes: number) => ({
      type: "scan",
      timestamp: new Date(Date.now() - minutes * 60_000).toISOString(),
      identities: [
        { namespace: "crm", id: "CONSOLE-CARDS" },
        { namespace: "console-card", id: card },
      ],
    });
    await api("POST", "/v1/events", { events: [scan("K1", 30), scan("K2", 20), scan("K3", 10)] });
    const page = await chromium.browser.newPage();
    await signIn(page);
    await openTab(page, "Identity rules");
    const form = page.locator("tessera-console >> form[aria-label='Change a namespace']");
    await form.locator("select[name=code]").selectOption("console-card");
    await expect.poll(() => form.locator("input[name=maxPerGraph]").inputValue()).toBe("3");
    await form.locator("input[name=maxPerGraph]").fill("1");
    await form.locator("button[type=submit]").click();
    const preview = page.locator("tessera-console >> [aria-label=Preview]");
    await expect.poll(() => textOf(preview)).toContain("2 splits");
    expect(await textOf(preview)).toContain("console-card:K1");
    // Nothing saved by a preview.
    expect(
      (await api("GET", "/v1/namespaces")).items.find((n: any) => n.code === "console-card")
        .maxPerGraph,
    ).toBe(3);
    await preview.locator("button:has-text('Apply to existing graphs')").click();
    const runs = page.locator("tessera-console >> tessera-console-identity >> table").last();
    await expect.poll(() => textOf(runs)).toContain("namespace console-card");
    await expect
      .poll(
        async () => (await api("GET", "/v1/identities/crm/CONSOLE-CARDS/graph")).identities.length,
        { timeout: 15_000 },
      )
      .toBe(2);
    await page.click("tessera-console >> tessera-console-identity >> button:has-text('Refresh')");
    await expect.poll(() => textOf(runs)).toContain("completed");
    await runs.locator("button:has-text('Revert')").first().click();
    await expect.poll(() => textOf(runs)).toContain("revert");
    await expect
      .poll(
        async () => (await api("GET", "/v1/identities/crm/CONSOLE-CARDS/graph")).identities.length,
        { timeout: 15_000 },
      )
      .toBe(4);
    await page.screenshot({ path: "test-artifacts/console-identity.png", fullPage: true });
    await page.close();
  });

  it("builds a report: the journeys view, last 7 days, by journey; chart, table, CSV download and attribution", async () => {
    // Two journeys' messages 3 days ago and a purchase 2 days ago, all before yesterday ended.
    const DAY = 86_400_000;
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString();
    const who = [{ namespace: "email", id: "console-report@example.com" }];
    const message = (messageId: string, journey: string, type: string, daysAgo: number) => ({
      id: `cr-${messageId}-${type}`,
      type,
      timestamp: at(daysAgo),
      identities: who,
      data: { messageId, journey, channel: "email" },
    });
    await api("POST", "/v1/events", {
      events: [
        message("cr-1", "console-welcome", "message.sent", 3),
        message("cr-1", "console-welcome", "message.delivered", 3),
        message("cr-1", "console-welcome", "message.clicked", 3),
        message("cr-2", "console-winback", "message.sent", 3),
        message("cr-2", "console-winback", "message.delivered", 3),
        {
          id: "cr-purchase",
          type: "purchase",
          timestamp: at(2),
          identities: who,
          data: { amount: 40 },
        },
      ],
    });

    const page = await chromium.browser.newPage({ acceptDownloads: true, timezoneId: "UTC" });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await signIn(page);
    await openTab(page, "Reports");

    await page.selectOption("tessera-console-reports >> #view", "journeys");
    await page.selectOption("tessera-console-reports >> #range", "7");
    await page.selectOption("tessera-console-reports >> #dimension", "journey");
    const report = page.locator("tessera-console-reports >> .report");
    await expect.poll(() => textOf(report.locator("tbody"))).toContain("console-welcome");
    expect(await report.locator("svg[role=img]").count()).toBe(1);
    const welcomeRow = await textOf(report.locator("tbody tr:has-text('console-welcome')"));
    // sent, delivered, bounced… in the view's order: the first four metrics are shown by default.
    expect(welcomeRow).toMatch(/console-welcome\s*1\s*0\s*1/);

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("tessera-console-reports >> button:has-text('Download CSV')"),
    ]);
    const csv = await new Promise<string>((resolve, reject) => {
      download.createReadStream().then((stream) => {
        let text = "";
        stream.on("data", (chunk) => (text += chunk));
        stream.on("end", () => resolve(text));
        stream.on("error", reject);
      }, reject);
    });
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("journey,sent,retries,delivered,bounced,complete");
    expect(lines).toContain("console-welcome,1,0,1,0,true");
    expect(download.suggestedFilename()).toBe("journeys-journey.csv");

    const attribution = page.locator("tessera-console-reports >> .attribution");
    await page.selectOption("tessera-console-reports >> #model", "first");
    await expect
      .poll(() => textOf(attribution.locator("tbody tr:has-text('console-welcome')")))
      .toMatch(/console-welcome\s*1\s*1\s*1\s*40/);
    await page.screenshot({ path: "test-artifacts/console-report-builder.png", fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("heads a report with the days it covers in the chosen zone, numbers with separators", async () => {
    const page = await chromium.browser.newPage({ timezoneId: "Europe/Amsterdam" });
    await signIn(page);
    await openTab(page, "Reports");
    await page.selectOption("tessera-console-reports >> #view", "journeys");
    await page.selectOption("tessera-console-reports >> #range", "7");
    const heading = page.locator("tessera-console-reports >> .report h3");
    await expect.poll(() => textOf(heading)).toContain("Europe/Amsterdam");
    // Seven days ending yesterday, as Amsterdam counts them (the range starts at its local midnight, 23:00 or 22:00 UTC the day before).
    const day = (daysAgo: number) => {
      const today = new Intl.DateTimeFormat("en-CA", {
        timeZone: "Europe/Amsterdam",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(new Date());
      return new Date(Date.parse(`${today}T00:00:00Z`) - daysAgo * 86_400_000)
        .toISOString()
        .slice(0, 10);
    };
    expect(await textOf(heading)).toContain(`${day(7)} – ${day(1)}`);
    expect(await textOf(heading)).toMatch(/^sent by /);
    // By day: a time series drawn on a canvas (uPlot), one line per metric, the table below it.
    await page.selectOption("tessera-console-reports >> #dimension", "day");
    const chart = page.locator("tessera-console-reports >> tessera-time-chart");
    await expect.poll(() => chart.locator("canvas").count()).toBe(1);
    expect(await chart.locator("[role=img]").getAttribute("aria-label")).toMatch(
      /^sent, retries, delivered, bounced by day, /,
    );
    expect(await textOf(chart.locator(".u-legend"))).toContain("delivered");
    expect(
      await page.locator("tessera-console-reports >> .report > table > tbody > tr").count(),
    ).toBe(7);
    await page.screenshot({
      path: "test-artifacts/console-report-time-series.png",
      fullPage: true,
    });
    await page.close();
  });

  it("draws a profile's identity graph: identities as nodes, applied links solid, refused ones dashed", async () => {
    await api("PUT", "/v1/namespaces/gcard", { normalize: "trim", maxPerGraph: 1 });
    await api("PUT", "/v1/datasets/graph-crm", { kind: "records" });
    await api("POST", "/v1/records", {
      records: [
        {
          dataset: "graph-crm",
          identities: [
            { namespace: "crm", id: "GRAPHY-1" },
            { namespace: "email", id: "graphy@example.com" },
          ],
          attributes: { firstName: "Graphy", lastName: "Drawn" },
        },
      ],
    });
    await api("POST", "/v1/events", {
      type: "scan",
      identities: [
        { namespace: "crm", id: "GRAPHY-1" },
        { namespace: "gcard", id: "A" },
      ],
    });
    await api("POST", "/v1/events", {
      type: "scan",
      identities: [
        { namespace: "crm", id: "GRAPHY-1" },
        { namespace: "gcard", id: "B" },
      ],
    });
    const graph = await api("GET", "/v1/identities/crm/GRAPHY-1/graph");
    // The card a cap refused is in a profile of its own; the refused link comes with the graph.
    expect(graph.refusedLinks).toHaveLength(1);
    expect(graph.refusedLinks[0]).toMatchObject({
      applied: false,
      otherProfileId: expect.any(String),
    });

    const page = await chromium.browser.newPage();
    await signIn(page);
    await page.fill("tessera-console >> #q", "graphy");
    await page.click("tessera-console >> ul.results button:has-text('Graphy Drawn')");
    const picture = page.locator("tessera-console-profiles >> svg.graph-picture");
    await expect.poll(() => picture.count()).toBe(1);
    // Every identity of the profile, and the card the cap refused (in a profile of its own), as nodes.
    expect(await picture.locator("circle").count()).toBe(graph.identities.length + 1);
    expect(await picture.locator("line.applied").count()).toBe(graph.links.length);
    expect(await picture.locator("line.refused").count()).toBe(1);
    expect(await picture.locator("line.refused").getAttribute("stroke-dasharray")).toBe("6 4");
    expect(await textOf(picture.locator("line.refused title"))).toMatch(
      /gcard:[AB].*kept, not applied.*dataset/,
    );
    await page.screenshot({ path: "test-artifacts/console-identity-graph.png", fullPage: true });
    await page.close();
  });
});

/** Report date ranges (SPEC §2 reporting, §5 data views): bad or impossible dates are a 400 naming the field, never a 500 or a quiet roll-over. */
import { describe, expect, it } from "vitest";
import { call, expectErrorShape } from "../helpers";

const ENDPOINTS = ["/v1/reports/messages?", "/v1/reports/events?", "/v1/reports/journeys?conversion=purchase&", "/v1/data-views/journeys/report?"];

describe("report ranges", () => {
  it.each(ENDPOINTS.flatMap((base) => [
    [base, "from=9999-12-30", "from"],
    [base, "from=2026-02-30", "from"],
    [base, "from=0000-01-01", "from"],
    [base, "to=2026-13-01", "to"],
    [base, "from=1969-12-31", "from"],
    [base, "to=+275760-09-13T00:00:00Z", "to"],
  ]))("%s%s is refused", async (base, query, path) => {
    const res = await call("GET", `${base}${query}`);
    expect(res).toHaveStatus(400);
    expectErrorShape(res.json, "invalid_request");
    expect(res.json.error.details[0].path).toBe(path);
  });

  it("a real leap day is a day", async () => {
    expect(await call("GET", "/v1/reports/events?from=2024-02-29&to=2024-03-01")).toHaveStatus(200);
  });
});

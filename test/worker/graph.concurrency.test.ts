import { describe, expect, it } from "vitest";
import { api, graphOf, id, iso, keysOf, send } from "../helpers";

/**
 * Rule 6: concurrent ingests never lose a link. 60 single-event calls whose identities
 * chain into 6 overlapping graphs are fired at once; the graphs must equal those of the
 * same events sent one by one.
 */
const CHAINS = 6;
const LENGTH = 10;
const T0 = Date.now() - 3600_000;

function chainEvents(prefix: string) {
  const events = [];
  for (let c = 0; c < CHAINS; c++) {
    for (let i = 0; i < LENGTH; i++) {
      const identities = [
        id("device", `${prefix}-c${c}-d${String(i).padStart(12, "0")}`),
        id("device", `${prefix}-c${c}-d${String(i + 1).padStart(12, "0")}`),
      ];
      // Every third link also carries the chain's e-mail: more overlap between calls.
      if (i % 3 === 0) identities.push(id("email", `${prefix}-chain${c}@example.com`));
      events.push({ type: "page.view", timestamp: iso(T0 + i * 1000), identities });
    }
  }
  return events;
}

async function graphsOf(prefix: string) {
  const seen = new Set<string>();
  const graphs: string[][] = [];
  for (let c = 0; c < CHAINS; c++) {
    for (let i = 0; i <= LENGTH; i++) {
      const value = `${prefix}-c${c}-d${String(i).padStart(12, "0")}`;
      if (seen.has(value)) continue;
      const g = await graphOf("device", value);
      const keys = keysOf(g).map((k) => k.replace(prefix, "P"));
      keysOf(g).forEach((k) => seen.add(k.slice(k.indexOf(":") + 1)));
      graphs.push(keys);
    }
  }
  return graphs.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

describe("concurrent ingest", () => {
  it("60 concurrent calls end with the same graphs as a sequential run", async () => {
    for (const e of chainEvents("seq")) {
      const res = await send(api.v1.events.$post({ query: {}, json: e }));
      expect(res).toHaveStatus(200);
    }
    const responses = await Promise.all(
      chainEvents("par").map((e) => send(api.v1.events.$post({ query: {}, json: e }))),
    );
    expect(responses.every((r) => r.status === 200 && r.json.accepted === 1)).toBe(true);

    const sequential = await graphsOf("seq");
    const concurrent = await graphsOf("par");
    expect(sequential).toHaveLength(CHAINS);
    expect(sequential.every((g) => g.length === LENGTH + 2)).toBe(true);
    expect(concurrent).toEqual(sequential);
  });
});

/** Long reads in short pieces (worker/lib/time-slices.ts): coverage, order, adaptation, budget. */
import { describe, expect, it } from "vitest";
import { ProblemSignal } from "../../worker/lib/result";
import { eachSlice, readBudget, readInSlices } from "../../worker/lib/time-slices";

const DAY = 86_400_000;

describe("time slices", () => {
  it("cover the range exactly once, oldest first, with no gap or overlap", async () => {
    const seen: [number, number][] = [];
    await eachSlice(
      0,
      90 * DAY + 12345,
      readBudget(),
      async (from, to) => void seen.push([from, to]),
    );
    expect(seen[0]![0]).toBe(0);
    expect(seen.at(-1)![1]).toBe(90 * DAY + 12345);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBe(seen[i - 1]![1]);
  });

  it("shorten after a slow slice and grow (at most doubling) after fast ones", async () => {
    const spans: number[] = [];
    let slow = true;
    await eachSlice(0, 40 * DAY, readBudget(), async (from, to) => {
      spans.push(to - from);
      if (slow) {
        slow = false;
        await new Promise((r) => setTimeout(r, 80)); // 4× the 20 ms target
      }
    });
    expect(spans[1]!).toBeLessThan(spans[0]!);
    for (let i = 2; i < spans.length - 1; i++)
      expect(spans[i]!).toBeLessThanOrEqual(2 * spans[i - 1]!);
  });

  it("stop at the limit, and refuse a read that overspends its budget with a clear problem", async () => {
    const rows = await readInSlices(0, 30 * DAY, readBudget(), async (from) => [from, from + 1], 3);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.length).toBeLessThanOrEqual(4);
    const budget = { budgetMs: 30, spentMs: 0 };
    const read = readInSlices(0, 30 * DAY, budget, async () => {
      await new Promise((r) => setTimeout(r, 20));
      return [1];
    });
    await expect(read).rejects.toBeInstanceOf(ProblemSignal);
    await expect(read).rejects.toMatchObject({
      problem: { code: "invalid_request", details: [{ path: "from" }] },
    });
  });
});

/**
 * The write lane (worker/writer/lane.ts) on its own, in Node, with a fake commit: group
 * commit, the split of a failed group down to the call that fails alone, exclusive work
 * between groups, background slices after groups, and never two commits at once. The
 * workerd tests (lane.concurrency.test.ts) check the same lane inside the writer, against
 * a sequential replay of what it stored.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WriteLane } from "../../worker/writer/lane";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A lane over a fake store: records every commit and what runs when. */
function fakeLane(options: { maxGroupItems?: number; failing?: Set<number> } = {}) {
  const commits: number[][] = [];
  const timeline: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const lane = new WriteLane<number, string>(
    async (inputs) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      timeline.push(`group:${inputs.join(",")}`);
      await tick();
      inFlight--;
      // A group holding a failing input writes nothing and throws.
      if (inputs.some((i) => options.failing?.has(i))) throw new Error("bad item");
      commits.push(inputs);
      return inputs.map((i) => `ok:${i}`);
    },
    { maxGroupItems: options.maxGroupItems ?? 100, sizeOf: () => 1 },
  );
  const exclusive = (name: string) =>
    lane.runExclusive(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      timeline.push(`exclusive:${name}`);
      await tick();
      inFlight--;
      return name;
    });
  return { lane, commits, timeline, exclusive, maxInFlight: () => maxInFlight };
}

describe("the write lane", () => {
  it("commits calls that wait together as one group, in arrival order", async () => {
    const { lane, commits } = fakeLane();
    const answers = await Promise.all([1, 2, 3, 4].map((i) => lane.submit(i)));
    expect(answers).toEqual(["ok:1", "ok:2", "ok:3", "ok:4"]);
    expect(commits).toEqual([[1, 2, 3, 4]]);
    expect(lane.stats).toMatchObject({ groups: 1, calls: 4 });
  });

  it("caps a group at maxGroupItems; the rest form the next group", async () => {
    const { lane, commits } = fakeLane({ maxGroupItems: 3 });
    await Promise.all([1, 2, 3, 4, 5].map((i) => lane.submit(i)));
    expect(commits).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it("runs exclusive work alone, before the next group", async () => {
    const { lane, timeline, exclusive } = fakeLane();
    const first = lane.submit(1);
    await tick(); // the first group is under way
    const later = [lane.submit(2), exclusive("delete"), lane.submit(3)];
    await Promise.all([first, ...later]);
    expect(timeline).toEqual(["group:1", "exclusive:delete", "group:2,3"]);
  });

  it("runs one background slice after each group, so neither starves", async () => {
    const { lane, timeline } = fakeLane();
    const slice = (n: number) =>
      lane.runInBackground(async () => {
        timeline.push(`slice:${n}`);
      });
    await Promise.all([slice(1), slice(2), lane.submit(1)]);
    expect(timeline).toEqual(["group:1", "slice:1", "slice:2"]);
  });

  it("property: whichever calls fail, only they get the error, every other call is committed exactly once, and commits never overlap", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 16 }),
        async (calls, failingList, maxGroupItems) => {
          const failing = new Set(failingList.filter((f) => f < calls));
          const { lane, commits, maxInFlight } = fakeLane({ maxGroupItems, failing });
          const inputs = Array.from({ length: calls }, (_, i) => i);
          const settled = await Promise.allSettled(inputs.map((i) => lane.submit(i)));
          settled.forEach((s, i) => {
            if (failing.has(i)) expect(s.status).toBe("rejected");
            else expect(s).toEqual({ status: "fulfilled", value: `ok:${i}` });
          });
          const committed = commits.flat().sort((a, b) => a - b);
          expect(committed).toEqual(inputs.filter((i) => !failing.has(i)));
          for (const group of commits) expect(group.length).toBeLessThanOrEqual(maxGroupItems);
          expect(maxInFlight()).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

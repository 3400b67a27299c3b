// Load helpers shared by the bench steps: a bounded concurrent runner and percentiles.

/** The p-th percentile of an ascending array. */
export const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Runs `task(0)` … `task(count - 1)` from `clients` concurrent loops. Returns the wall
 * seconds and each task's latency in ms, ascending.
 */
export async function concurrently(count, clients, task) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { seconds: (performance.now() - started) / 1000, latencies };
}

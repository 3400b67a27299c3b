/**
 * Waits for the next timer turn. A loop whose every step awaits only I/O answers (D1,
 * RPC) keeps the event loop inside those answers; locally, where D1 answers in-process, a
 * chain of them holds back requests that arrived meanwhile for as long as the loop runs
 * (measured: 8 ingest calls held ~0.9 s behind one 50-slice page of a graph run). A timer
 * between steps lets them start.
 */
export const timerTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

/** Waits `ms` milliseconds (retry back-offs, and the bench's simulated time). */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds; the last value read. For worker and browser tests alike. */
export async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { tries = 300, everyMs = 50 } = {},
): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 500)}`,
  );
}

/** Export runs end completed or failed. */
export const runFinished = (run: { status?: string } | undefined) =>
  run?.status === "completed" || run?.status === "failed";

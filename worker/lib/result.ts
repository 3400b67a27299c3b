/**
 * Results of domain modules (analytics, reports, profiles, identity parsing): a value, or
 * a Problem in the API's error vocabulary (SPEC §2 codes) but without HTTP. Routes decide
 * what a problem means for the response — usually `orFail`, which answers with the
 * code's status and the spec's error body.
 */
import type { ErrorCode, ErrorDetail } from "../../shared/errors";

export interface Problem {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export function problem(
  code: ErrorCode,
  message: string,
  details?: ErrorDetail[],
): { ok: false; problem: Problem } {
  return { ok: false, problem: { code, message, ...(details ? { details } : {}) } };
}

/**
 * For deep code paths (a limit hit inside an aggregation): `fail(...)` stops the work, and
 * the module's public function turns it back into a Result with `resultOf`, so callers
 * still get a Result and never an exception for an expected problem.
 */
export class ProblemSignal extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

export function fail(code: ErrorCode, message: string, details?: ErrorDetail[]): never {
  throw new ProblemSignal({ code, message, ...(details ? { details } : {}) });
}

export async function resultOf<T>(run: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await run());
  } catch (err) {
    return caught(err);
  }
}

/** `resultOf` for synchronous work. */
export function resultOfSync<T>(run: () => T): Result<T> {
  try {
    return ok(run());
  } catch (err) {
    return caught(err);
  }
}

function caught(err: unknown): { ok: false; problem: Problem } {
  if (err instanceof ProblemSignal) return { ok: false, problem: err.problem };
  throw err;
}

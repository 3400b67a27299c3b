import type { Hook } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { type ErrorDetail, formatPath } from "../../shared/errors";
import { ApiError } from "./errors";

type Issue = ZodError["issues"][number];

export function zodDetails(error: ZodError, prefix: readonly PropertyKey[] = []): ErrorDetail[] {
  return error.issues.flatMap((issue) => issueDetails(issue, prefix));
}

/**
 * One issue as details. A union ("one of these shapes") is reduced to the branch the caller
 * evidently meant, instead of zod's bare "Invalid input" or every branch's complaints: when
 * every branch refuses the same tag field (`type: "ftp"`), the answer names the values there
 * are; otherwise the branch with the fewest problems is the one meant.
 */
function issueDetails(issue: Issue, prefix: readonly PropertyKey[]): ErrorDetail[] {
  const path = [...prefix, ...issue.path];
  if (
    issue.code !== "invalid_union" ||
    !("errors" in issue) ||
    !Array.isArray(issue.errors) ||
    issue.errors.length === 0
  ) {
    return [{ path: formatPath(path), message: issue.message }];
  }
  const branches = issue.errors as Issue[][];
  const tagOf = (branch: Issue[]) =>
    branch.find((i) => i.code === "invalid_value" && i.path.length === 1);
  const tags = branches.map(tagOf);
  const field = tags[0]?.path[0];
  if (field !== undefined && tags.every((t) => t !== undefined && t.path[0] === field)) {
    const expected = [
      ...new Set(
        tags.flatMap((t) =>
          ("values" in t! ? (t!.values as unknown[]) : []).map((v) => JSON.stringify(v)),
        ),
      ),
    ];
    return [
      { path: formatPath([...path, field]), message: `expected one of ${expected.join(", ")}` },
    ];
  }
  const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
  return best.flatMap((i) => issueDetails(i, path));
}

/**
 * The one hook that turns any request-validation failure (body, query, path, header)
 * into the spec's error shape. Every router gets it through `createRouter()`.
 */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (!result.success) {
    throw new ApiError("invalid_request", "The request is not valid.", {
      details: zodDetails(result.error as ZodError),
    });
  }
};

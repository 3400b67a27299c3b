/**
 * Creating or changing a file export destination (R2, S3, Azure): an S3 endpoint must be
 * one Tessera may call, the segment and merge policy it names must exist.
 */
import type { DestinationConfig } from "../../shared/schemas/destinations";
import { type ConfigWrite, saveDestination } from "../config/service";
import { getSegment } from "../db/queries/segments";
import { ApiError, orFail } from "../lib/errors";
import { outboundPolicy, resolvedUrlProblem } from "../lib/outbound";
import { resolvePolicy } from "../profiles/service";

export async function putFileDestination(c: ConfigWrite, name: string, config: DestinationConfig) {
  if (config.type === "s3" && config.endpoint) {
    const problem = await resolvedUrlProblem(config.endpoint, outboundPolicy(c.env));
    if (problem)
      throw new ApiError("invalid_request", `endpoint ${problem}`, {
        details: [{ path: "endpoint", message: problem }],
      });
  }
  if (config.segment && !(await getSegment(c.var.db, config.segment))) {
    throw new ApiError("invalid_request", `unknown segment "${config.segment}"`, {
      details: [{ path: "segment", message: "not a segment" }],
    });
  }
  orFail(await resolvePolicy(c.var.db, config.mergePolicy));
  // It may have been a webhook before: saving tells the writer either way.
  return saveDestination(c, name, config);
}

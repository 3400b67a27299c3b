import type { ErrorDetail } from "../../shared/errors";
import type { IdentityRef } from "../graph/workspace";
import type { ErrorCode } from "../lib/errors";

export interface ItemError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
}

/** An item that passed every stateless check, with its identities normalized. */
export interface NormalizedItem {
  index: number;
  /** `link`: only the identities matter (a visitor's device seen with a signed-in identity). */
  kind: "record" | "event" | "link";
  dataset: string;
  /** Normalized and de-duplicated, in the order given. */
  identities: IdentityRef[];
  at: number;
  /** Records: the attribute patch (null removes a leaf). */
  attributes?: Record<string, unknown>;
  /** Events (and records that carry a receipt event, from the tracking API). */
  event?: { id: string; type: string; data: Record<string, unknown> | null };
}

export interface IngestCommand {
  items: NormalizedItem[];
  atomic: boolean;
  receivedAt: number;
}

export type ItemOutcome =
  | { index: number; status: "accepted"; profileId: string }
  | { index: number; status: "duplicate" }
  | { index: number; status: "rejected"; error: ItemError };

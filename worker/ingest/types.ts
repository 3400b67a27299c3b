import type { ErrorDetail } from "../../shared/errors";
import type { ConsentStatus } from "../../shared/schemas/consent";
import type { ErrorCode } from "../lib/errors";
import type { IdentityRef } from "../model/graph";

export interface ItemError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
}

/** An item that passed every stateless check, with its identities normalized. */
export interface NormalizedItem {
  index: number;
  /**
   * `link`: only the identities matter (a visitor's device seen with a signed-in identity).
   * `consent`: choices per purpose, recorded for each identity (which are linked, as an event's).
   */
  kind: "record" | "event" | "link" | "consent";
  dataset: string;
  /** Normalized and de-duplicated, in the order given. */
  identities: IdentityRef[];
  at: number;
  /** Records: the attribute patch (null removes a leaf). */
  attributes?: Record<string, unknown>;
  /** Events (and records that carry a receipt event, from the tracking API). */
  event?: { id: string; type: string; data: Record<string, unknown> | null };
  /** Consent items: the choices and where they were made. */
  consent?: { purposes: Record<string, ConsentStatus>; source: string };
  /** A purpose the item's profile must have granted, or the item is ignored (browser collection: `analytics`). */
  requires?: string;
}

export interface IngestCommand {
  items: NormalizedItem[];
  atomic: boolean;
  receivedAt: number;
}

export type ItemOutcome =
  | { index: number; status: "accepted"; profileId: string }
  | { index: number; status: "duplicate" }
  | { index: number; status: "ignored"; reason: "consent" }
  | { index: number; status: "rejected"; error: ItemError };

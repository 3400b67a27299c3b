/** A recorded consent choice (SPEC §8), as the consent rules and the data layer share it. */
import type { ConsentStatus } from "../../shared/schemas/consent";

export interface ConsentChoice {
  status: ConsentStatus;
  /** When the choice was made (ms). */
  at: number;
  source: string;
}

import { identityKey } from "../../shared/identity/normalize";
import type { IngestCommand } from "./types";

/** Every identity key ("namespace:value") an ingest call names: what decides which shard applies it. */
export const commandKeys = (command: IngestCommand): string[] => [
  ...new Set(
    command.items.flatMap((item) => item.identities.map((r) => identityKey(r.namespace, r.value))),
  ),
];

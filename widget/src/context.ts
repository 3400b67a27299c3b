import { createContext } from "@lit/context";
import type { z } from "zod";
import type { ContextSchema } from "../../shared/schemas/personalization";

/** What `GET /v1/context` answers (SPEC §2): the API's own type (type-only import, no zod in the bundle). */
export type VisitorContext = z.infer<typeof ContextSchema>;

/** The state `tessera-personalize` provides to its descendants. */
export interface ContextState {
  status: "pending" | "complete" | "error";
  value?: VisitorContext;
}

export const visitorContext = createContext<ContextState>(Symbol.for("tessera.visitor-context"));

/** Reads a dotted path (`loyalty.tier`) from an attribute tree. */
export function readPath(tree: Record<string, unknown> | undefined, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

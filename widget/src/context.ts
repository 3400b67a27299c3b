import { createContext } from "@lit/context";

/** What `GET /v1/context` answers (SPEC §2). */
export interface VisitorContext {
  device: string;
  known: boolean;
  segments: string[];
  attributes: Record<string, unknown>;
}

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

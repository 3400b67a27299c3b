/**
 * Attribute labels from dataset schemas: a records dataset whose JSON Schema gives a
 * property a `title` lends that title to the attribute wherever it is shown (the card
 * shows a provenance `name` instead of the path).
 */
import type { Provenance } from "./merge";

/** The `title` of the property at a dotted path (`loyalty.tier`) in a JSON Schema, if it has one. */
function schemaTitle(schema: unknown, path: string): string | undefined {
  let node = schema as { properties?: Record<string, unknown>; title?: unknown } | undefined;
  for (const part of path.split(".")) {
    const next = node?.properties?.[part];
    if (!next || typeof next !== "object") return undefined;
    node = next as typeof node;
  }
  return typeof node?.title === "string" && node.title.trim()
    ? node.title.trim().slice(0, 100)
    : undefined;
}

/** Gives each attribute without a name the title its dataset's schema has for it. */
export function withSchemaTitles(
  provenance: Record<string, Provenance>,
  schemas: ReadonlyMap<string, unknown>,
): Record<string, Provenance> {
  for (const [path, entry] of Object.entries(provenance)) {
    if (entry.name) continue;
    const title = schemaTitle(schemas.get(entry.dataset), path);
    if (title) entry.name = title;
  }
  return provenance;
}

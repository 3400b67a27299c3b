/**
 * Turns a CSV row into an ingest item (SPEC: `identity.<namespace>` columns are
 * identities, `timestamp`, `type` and `id` for events, every other column an attribute
 * path like `loyalty.tier`). Empty cells are left out. Values stay strings, except where
 * the dataset's schema says a path is a number, integer or boolean.
 */
export type ItemKind = "events" | "records";

function schemaTypeAt(schema: Record<string, unknown> | null | undefined, path: string[]): string | undefined {
  let node: any = schema;
  for (const key of path) {
    node = node?.properties?.[key];
    if (!node) return undefined;
  }
  return typeof node.type === "string" ? node.type : undefined;
}

function coerce(value: string, type: string | undefined): unknown {
  if ((type === "number" || type === "integer") && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  if (type === "boolean" && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === "true";
  return value;
}

function setPath(tree: Record<string, unknown>, path: string[], value: unknown) {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function csvRowToItem(
  row: Record<string, string>,
  kind: ItemKind,
  dataset: string,
  schema: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  const identities: { namespace: string; id: string }[] = [];
  const attributes: Record<string, unknown> = {};
  const item: Record<string, unknown> = { dataset };
  for (const [column, value] of Object.entries(row)) {
    if (value === "") continue;
    if (column.startsWith("identity.")) {
      identities.push({ namespace: column.slice("identity.".length), id: value });
    } else if (column === "timestamp") {
      item.timestamp = value;
    } else if (kind === "events" && (column === "type" || column === "id")) {
      item[column] = value;
    } else {
      const path = column.split(".");
      setPath(attributes, path, coerce(value, schemaTypeAt(schema, path)));
    }
  }
  item.identities = identities;
  item[kind === "events" ? "data" : "attributes"] = attributes;
  return item;
}

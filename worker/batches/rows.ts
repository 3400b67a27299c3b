/**
 * Turns a CSV row into an ingest item (SPEC: `identity.<namespace>` columns are
 * identities, `timestamp`, `type` and `id` for events, every other column an attribute
 * path like `loyalty.tier`). Empty cells are left out. Values stay strings, except where
 * the dataset's schema says a path is a number, integer or boolean. Paths are written into
 * prototype-free trees: a `__proto__.x` header is an attribute path that validation
 * rejects, never a write onto Object.prototype.
 */
import { emptyTree, getPath, plainTree, setPath } from "../../shared/attribute-tree";
import { isExactLiteral } from "../../shared/json-exact";
import { closest } from "../../shared/suggest";

export type ItemKind = "events" | "records";

function schemaTypeAt(
  schema: Record<string, unknown> | null | undefined,
  path: string[],
): string | undefined {
  let node: unknown = schema;
  for (const key of path) {
    node = getPath(node, ["properties", key]);
    if (!node) return undefined;
  }
  const type = getPath(node, ["type"]);
  return typeof type === "string" ? type : undefined;
}

function coerce(value: string, type: string | undefined): unknown {
  // Only a number that holds the cell exactly; otherwise the string stays and the schema judges it.
  if (
    (type === "number" || type === "integer") &&
    value.trim() !== "" &&
    isExactLiteral(value.trim(), Number(value))
  )
    return Number(value);
  if (type === "boolean" && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === "true";
  return value;
}

export function csvRowToItem(
  row: Record<string, string>,
  kind: ItemKind,
  dataset: string,
  schema: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  const identities: { namespace: string; id: string }[] = [];
  const attributes = emptyTree();
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
  item[kind === "events" ? "data" : "attributes"] = plainTree(attributes);
  return item;
}

/** What each CSV column becomes, as `GET /v1/batches/:id` lists it. */
interface CsvColumns {
  identities: string[];
  fields: string[];
  attributes: string[];
}

export function csvColumns(header: readonly string[], kind: ItemKind): CsvColumns {
  const out: CsvColumns = { identities: [], fields: [], attributes: [] };
  for (const column of header) {
    if (column.startsWith("identity.")) out.identities.push(column);
    else if (
      column === "timestamp" ||
      (kind === "events" && (column === "type" || column === "id"))
    )
      out.fields.push(column);
    else out.attributes.push(column);
  }
  return out;
}

/**
 * A header that looks like a misspelled identity column: `identity.<x>` where x is not a
 * namespace (`identity.emial`), or a first segment one or two letters from `identity`
 * (`identiy.email`). Imported as an attribute, it would leave every row without that
 * identity and give each profile a junk attribute, so the batch fails before any row.
 */
export function misspelledIdentityColumn(
  header: readonly string[],
  namespaces: ReadonlySet<string>,
): { column: string; message: string } | undefined {
  for (const column of header) {
    const dot = column.indexOf(".");
    if (dot < 0) continue;
    const [prefix, rest] = [column.slice(0, dot), column.slice(dot + 1)];
    if (prefix === "identity") {
      if (namespaces.has(rest)) continue;
      const meant = closest(rest, namespaces);
      return {
        column,
        message: `column "${column}": "${rest}" is not a namespace${meant ? `; did you mean "identity.${meant}"?` : " (see GET /v1/namespaces)"}`,
      };
    }
    if (closest(prefix, ["identity"]) !== undefined) {
      const ns = namespaces.has(rest) ? rest : (closest(rest, namespaces) ?? rest);
      return {
        column,
        message: `column "${column}" looks like a misspelled identity column; did you mean "identity.${ns}"?`,
      };
    }
  }
  return undefined;
}

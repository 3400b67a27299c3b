import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { ERROR_CODES, ERROR_MEANINGS, ERROR_STATUS } from "../../shared/errors";

/**
 * A readable API reference rendered on the server from the OpenAPI document: summaries,
 * parameters, example requests and responses, and schemas. No script at all and no CDN,
 * so it works offline under a CSP that allows only its own stylesheet (routes/docs.ts).
 * Every value is escaped by `html`.
 */
type Json = Record<string, any>;

const METHOD_ORDER = ["get", "post", "put", "patch", "delete"];

function jsonText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function resolveRef(doc: Json, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref as string | undefined;
  if (!ref) return schema;
  return ref
    .split("/")
    .slice(1)
    .reduce<Json | undefined>((node, key) => node?.[key], doc);
}

/** `code` and **bold** in summaries and descriptions; everything else is escaped text. */
function prose(text: string | undefined) {
  if (!text) return "";
  const parts = text.split(/(`[^`]+`|\*\*[^*]+\*\*)/g);
  return parts.map((part) =>
    part.startsWith("`") && part.endsWith("`") && part.length > 1
      ? html`<code>${part.slice(1, -1)}</code>`
      : part.startsWith("**") && part.endsWith("**") && part.length > 3
        ? html`<strong>${part.slice(2, -2)}</strong>`
        : part,
  );
}

/** A short type label: `string`, `integer 1–100`, `"a" | "b"`, `Profile`, `Event[]`. */
function typeLabel(schema: Json | undefined): string {
  if (!schema) return "";
  if (schema.$ref) return String(schema.$ref).split("/").pop() ?? "";
  if (schema.enum) return (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  if (schema.type === "array") return `${typeLabel(schema.items)}[]`;
  if (schema.oneOf || schema.anyOf)
    return ((schema.oneOf ?? schema.anyOf) as Json[]).map(typeLabel).join(" | ");
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? ` ${schema.minimum}–${schema.maximum}`
      : "";
  return `${schema.type ?? "any"}${schema.format ? ` (${schema.format})` : ""}${range}`;
}

function mediaHtml(doc: Json, label: string, mediaType: string, media: Json) {
  const schema = resolveRef(doc, media.schema);
  return html`<div class="media"><p class="label">${label} <code>${mediaType}</code> ${typeLabel(media.schema)}</p>
    ${media.example !== undefined ? html`<pre class="example" tabindex="0">${jsonText(media.example)}</pre>` : ""}
    ${schema ? html`<details><summary>Schema</summary><pre tabindex="0">${jsonText(schema)}</pre></details>` : ""}</div>`;
}

function operationHtml(doc: Json, method: string, path: string, op: Json) {
  const scope = op["x-tessera-scope"] as string | undefined;
  const params = (op.parameters ?? []) as Json[];
  const patterned = (op["x-tessera-pattern-parameters"] ?? []) as Json[];
  const requestContent = Object.entries((op.requestBody?.content ?? {}) as Json);
  const responses = Object.entries((op.responses ?? {}) as Json);
  return html`<section class="op" id="${op.operationId ?? `${method}-${path}`}">
    <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${prose(op.summary)}${scope ? html` <span class="scope">scope: ${scope}</span>` : ""}
      ${op.operationId ? html` <span class="opid">${op.operationId}</span>` : ""}</p>
    ${op.description ? html`<p>${prose(op.description)}</p>` : ""}
    ${
      params.length || patterned.length
        ? html`<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th>description</th></tr></thead><tbody>
          ${params.map(
            (p) =>
              html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? "yes" : "no"}</td><td>${typeLabel(p.schema)}</td><td>${prose(p.description ?? p.schema?.description)}</td></tr>`,
          )}
          ${patterned.map(
            (p) =>
              html`<tr><td><code>${p.example ?? p.pattern}</code></td><td>${p.in}</td><td>no</td><td>${typeLabel(p.schema)}</td><td>${prose(p.description)}</td></tr>`,
          )}
        </tbody></table>`
        : ""
    }
    ${requestContent.map(([type, media]) => mediaHtml(doc, "Request body", type, media as Json))}
    <h4>Responses</h4>
    <ul class="responses">
      ${responses.map(([status, r]) => {
        const response = r as Json;
        const content = Object.entries((response.content ?? {}) as Json);
        // Success bodies are shown open; error bodies all share the one Error shape.
        return html`<li><code>${status}</code> ${prose(response.description)}
          ${status.startsWith("2") ? content.map(([type, media]) => mediaHtml(doc, "Body", type, media as Json)) : ""}</li>`;
      })}
    </ul>
  </section>`;
}

export function renderDocsPage(doc: Json): HtmlEscapedString | Promise<HtmlEscapedString> {
  const byTag = new Map<string, [string, string, Json][]>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const method of METHOD_ORDER) {
      const op = (item as Json)[method] as Json | undefined;
      if (!op) continue;
      const tag = (op.tags?.[0] as string | undefined) ?? "Other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push([method, path, op]);
    }
  }
  const tags = [...byTag.keys()].sort();
  const slug = (tag: string) => tag.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info?.title ?? "API"} — reference</title>
<link rel="stylesheet" href="/docs.css">
<link rel="icon" href="data:,">
</head>
<body>
<header><h1>${doc.info?.title ?? "API"} <small>${doc.info?.version ?? ""}</small></h1>
<p>${prose(doc.info?.description)}</p>
<p>Server: ${(doc.servers ?? []).map((server: Json) => html`<code>${server.url}</code> `)} · License: ${doc.info?.license?.name ?? ""}</p>
<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI ${doc.openapi}).
Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>. Errors always look like
<code>{"error":{"code","message","details","requestId"}}</code>; the codes are the closed list
<a href="#error-codes">below</a>.</p>
<nav>${tags.map((t) => html`<a href="#tag-${slug(t)}">${t}</a> `)}</nav></header>
<main>
${tags.map(
  (tag) =>
    html`<h2 id="tag-${slug(tag)}">${tag}</h2>${byTag.get(tag)!.map(([m, p, op]) => operationHtml(doc, m, p, op))}`,
)}
<h2 id="error-codes">Error codes</h2>
<p>Every error answers with one of these codes and its status; item-level rejections in
ingest answers and batch error files use the same codes.</p>
<table><thead><tr><th>code</th><th>status</th><th>meaning</th></tr></thead><tbody>
${ERROR_CODES.map((code) => html`<tr id="error-${code}"><td><code>${code}</code></td><td>${ERROR_STATUS[code]}</td><td>${prose(ERROR_MEANINGS[code])}</td></tr>`)}
</tbody></table>
</main>
</body>
</html>`;
}

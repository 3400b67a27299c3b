import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/**
 * A readable API reference rendered on the server from the OpenAPI document — no CDN
 * script, so it works offline and under a strict CSP. Every value is escaped by `html`.
 */
type Json = Record<string, any>;

const METHOD_ORDER = ["get", "post", "put", "patch", "delete"];

function schemaText(schema: unknown): string {
  return JSON.stringify(schema, null, 2);
}

function resolveRef(doc: Json, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref as string | undefined;
  if (!ref) return schema;
  return ref.split("/").slice(1).reduce<Json | undefined>((node, key) => node?.[key], doc);
}

function operationHtml(doc: Json, method: string, path: string, op: Json) {
  const scope = op["x-tessera-scope"] as string | undefined;
  const params = (op.parameters ?? []) as Json[];
  const body = op.requestBody?.content?.["application/json"]?.schema as Json | undefined;
  const responses = Object.entries((op.responses ?? {}) as Json);
  return html`<section class="op" id="${method}-${path}">
    <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${op.summary ?? ""}${scope ? html` <span class="scope">scope: ${scope}</span>` : ""}</p>
    ${params.length
      ? html`<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>type</th></tr></thead><tbody>
          ${params.map(
            (p) =>
              html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? "yes" : "no"}</td><td>${p.schema?.type ?? ""}</td></tr>`,
          )}
        </tbody></table>`
      : ""}
    ${body ? html`<details><summary>Request body</summary><pre>${schemaText(resolveRef(doc, body))}</pre></details>` : ""}
    <ul class="responses">
      ${responses.map(([status, r]) => html`<li><code>${status}</code> ${(r as Json).description ?? ""}</li>`)}
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
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info?.title ?? "API"} — reference</title>
<style>${raw(DOCS_CSS)}</style>
</head>
<body>
<header><h1>${doc.info?.title ?? "API"} <small>${doc.info?.version ?? ""}</small></h1>
<p>${doc.info?.description ?? ""}</p>
<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI ${doc.openapi}).
Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>. Errors always look like
<code>{"error":{"code","message","details"}}</code>.</p>
<nav>${tags.map((t) => html`<a href="#tag-${t}">${t}</a> `)}</nav></header>
<main>
${tags.map(
  (tag) => html`<h2 id="tag-${tag}">${tag}</h2>${byTag.get(tag)!.map(([m, p, op]) => operationHtml(doc, m, p, op))}`,
)}
</main>
</body>
</html>`;
}

const DOCS_CSS = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header,main{max-width:960px;margin:0 auto;padding:0 20px}
header{padding-top:24px}nav a{margin-right:12px}
h2{margin-top:40px;border-bottom:1px solid #ddd}
.op{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:8px 16px;margin:12px 0}
.op h3{margin:8px 0;font-size:16px}
.method{display:inline-block;min-width:60px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px}
.get{background:#1f7a44}.post{background:#1f5f9e}.put{background:#8a5a00}.delete{background:#a3262a}.patch{background:#5d3a9b}
.scope{background:#eef;border-radius:4px;padding:1px 6px;font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #e3e3e3;padding:2px 8px;text-align:left}
pre{background:#f4f4f4;padding:8px;overflow:auto;font-size:12px}
`;

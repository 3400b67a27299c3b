// Bundles the widget into one minified ES module: public/widget.js (stable alias, short
// cache) and public/widget.<hash>.js (immutable, long cache). Prints the gzip size and
// fails when it exceeds the budget (SPEC §3: 15 KB gzip with Lit included).
import { createHash } from "node:crypto";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const out = path.join(root, "public");
export const WIDGET_BUDGET_BYTES = 15 * 1024;

const result = await build({
  entryPoints: [path.join(root, "widget/src/index.ts")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  write: false,
  legalComments: "none",
  tsconfig: path.join(root, "tsconfig.json"),
});
const code = result.outputFiles[0].contents;
const hash = createHash("sha256").update(code).digest("hex").slice(0, 10);

for (const f of readdirSync(out))
  if (/^widget\.[0-9a-f]{10}\.js$/.test(f)) rmSync(path.join(out, f));
writeFileSync(path.join(out, "widget.js"), code);
writeFileSync(path.join(out, `widget.${hash}.js`), code);

// The console is its own bundle: it does not count against the widget budget.
await build({
  entryPoints: [path.join(root, "widget/console/console.ts")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  outfile: path.join(out, "console.js"),
  // uPlot's stylesheet goes into the chart's shadow root as text.
  loader: { ".css": "text" },
  legalComments: "none",
  tsconfig: path.join(root, "tsconfig.json"),
});

const gzip = gzipSync(code, { level: 9 }).length;
console.log(
  `widget: ${code.length} bytes, ${gzip} bytes gzip (budget ${WIDGET_BUDGET_BYTES}) → public/widget.js, public/widget.${hash}.js`,
);
if (gzip > WIDGET_BUDGET_BYTES) {
  console.error(`widget: over the ${WIDGET_BUDGET_BYTES}-byte gzip budget`);
  process.exit(1);
}

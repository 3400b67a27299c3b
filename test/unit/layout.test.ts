/**
 * The import graph of the worker and the shared code, read by madge from the sources:
 * no circle anywhere, the writer package is a boundary (structure rules T1), and the bottom
 * layers point nowhere but down (T2): `shared/` imports only itself, `worker/lib/` only
 * itself and `shared/` (route plumbing that needs auth, the database or the app's
 * environment lives in `worker/http/`), `worker/model/` (the shapes the engine and the
 * data layer share) only itself and `shared/`, and `worker/db/` nothing above `model/`.
 */
import path from "node:path";

// typescript-estree (under madge) warns about its own deprecated AST fields on every file.
process.noDeprecation = true;

import madge from "madge";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Domain folders: the writer uses them, never the other way round. */
const DOMAIN = [
  "worker/graph/",
  "worker/segments/",
  "worker/webhooks/",
  "worker/profiles/",
  "worker/computed/",
  "worker/consent/",
];
/** What code outside the writer may import from it. */
const WRITER_SURFACE = new Set(["worker/writer/client.ts", "worker/writer/types.ts"]);

let graph: Record<string, string[]>;
let circles: string[][];

beforeAll(async () => {
  const result = await madge([path.join(ROOT, "worker"), path.join(ROOT, "shared")], {
    baseDir: ROOT,
    fileExtensions: ["ts"],
    tsConfig: path.join(ROOT, "tsconfig.json"),
    excludeRegExp: [/worker-configuration\.d\.ts$/],
  });
  graph = result.obj();
  circles = result.circular();
}, 60_000);

const importsOf = (pattern: (file: string) => boolean) =>
  Object.entries(graph)
    .filter(([file]) => pattern(file))
    .flatMap(([file, deps]) => deps.map((dep) => `${file} → ${dep}`));

describe("the import graph", () => {
  it("reads the whole worker", () => {
    expect(Object.keys(graph).length).toBeGreaterThan(100);
    expect(graph["worker/writer/writer.ts"]).toContain("worker/writer/commit.ts");
  });

  it("has no circular import", () => {
    expect(circles.map((c) => c.join(" → "))).toEqual([]);
  });

  it("reaches the writer package only through its client and types", () => {
    const outside = importsOf((f) => !f.startsWith("worker/writer/") && f !== "worker/index.ts");
    expect(
      outside.filter(
        (edge) =>
          edge.split(" → ")[1]!.startsWith("worker/writer/") &&
          !WRITER_SURFACE.has(edge.split(" → ")[1]!),
      ),
    ).toEqual([]);
  });

  it("keeps domain folders free of the writer", () => {
    expect(
      importsOf((f) => DOMAIN.some((d) => f.startsWith(d))).filter((edge) =>
        edge.split(" → ")[1]!.startsWith("worker/writer/"),
      ),
    ).toEqual([]);
  });

  it("lets slices use the host seams, not the façade or its D1 implementation", () => {
    const forbidden = [
      "worker/writer/writer.ts",
      "worker/writer/state.ts",
      "worker/writer/client.ts",
      "worker/writer/lane.ts",
    ];
    expect(
      importsOf((f) => f.startsWith("worker/writer/slices/")).filter((edge) =>
        forbidden.includes(edge.split(" → ")[1]!),
      ),
    ).toEqual([]);
  });

  it("keeps shared/, worker/lib/, worker/model/ and worker/db/ at the bottom: they import nothing above them", () => {
    const up = (from: string, allowed: string[]) =>
      importsOf((f) => f.startsWith(from)).filter(
        (edge) => !allowed.some((a) => edge.split(" → ")[1]!.startsWith(a)),
      );
    expect(up("shared/", ["shared/"])).toEqual([]);
    expect(up("worker/lib/", ["worker/lib/", "shared/"])).toEqual([]);
    // model/: the plain shapes engine and data layer share; db/: SQL over them.
    expect(up("worker/model/", ["worker/model/", "shared/"])).toEqual([]);
    expect(up("worker/db/", ["worker/db/", "worker/model/", "worker/lib/", "shared/"])).toEqual([]);
    // The rule has something to hold: both folders import within themselves.
    expect(importsOf((f) => f.startsWith("worker/lib/")).length).toBeGreaterThan(3);
  });

  it("leaves the app's HTTP environment (env.ts) to the HTTP edge: domain code names model/bindings.ts", () => {
    const edge = ["worker/app.ts", "worker/routes/", "worker/http/", "worker/auth/"];
    // Two Hono middlewares that live with their feature: the report read gate and the
    // visitor rate limit.
    const middleware = ["worker/reports/gate.ts", "worker/personalization/rate-limit.ts"];
    const importers = importsOf(() => true)
      .filter((edgeText) => edgeText.split(" → ")[1] === "worker/env.ts")
      .map((edgeText) => edgeText.split(" → ")[0]!);
    expect(importers.length).toBeGreaterThan(5);
    expect(importers.filter((f) => ![...edge, ...middleware].some((a) => f.startsWith(a)))).toEqual(
      [],
    );
  });
});

describe("the front-end packages' look", () => {
  it("takes every colour from the one token set (widget/tokens.ts): no hex value in a component or view", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const files = ["widget/src", "widget/console", "widget/console/views"].flatMap((dir) =>
      readdirSync(path.join(ROOT, dir))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `${dir}/${f}`),
    );
    expect(files.length).toBeGreaterThan(20);
    const withHex = files.filter((f) =>
      /#[0-9a-f]{3}(?:[0-9a-f]{3})?\b(?![-\w])/i.test(readFileSync(path.join(ROOT, f), "utf8")),
    );
    expect(withHex).toEqual([]);
  });
});

describe("the README", () => {
  it("stays at most 250 lines, and every doc it links exists", async () => {
    const { existsSync, readFileSync } = await import("node:fs");
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(250);
    const linked = [...readme.matchAll(/\]\(((?:docs|examples)\/[^)#]+)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(5);
    expect(linked.filter((f) => !existsSync(path.join(ROOT, f)))).toEqual([]);
  });
});

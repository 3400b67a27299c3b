#!/usr/bin/env node
// Tessera command line, built on the typed client (client/index.js):
//   tessera import FILE --dataset NAME   upload a CSV or NDJSON batch file with progress
//   tessera lookup NAMESPACE:ID          one profile, as JSON
//   tessera export DESTINATION           run an export now and wait for its files
//   tessera keys [create|delete]         list, create and delete API keys
//   tessera shards                       the owner shards and the projection's lag
import {
  createReadStream,
  existsSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { parseArgs } from "node:util";
import { createClient, TesseraError, unwrap } from "../client/index.js";

const USAGE = `Usage:
  tessera import FILE --dataset NAME [--format csv|ndjson]
  tessera lookup NAMESPACE:ID [--include segments,events,provenance,graph]
  tessera export DESTINATION
  tessera keys
  tessera keys create NAME --scopes ingest,profiles:read
  tessera keys create NAME --public --origins https://shop.example.com
  tessera keys delete KEY_ID
  tessera shards

Options (every command):
  --endpoint  Tessera base URL (default: $TESSERA_ENDPOINT or http://localhost:8787)
  --key       API key (default: $TESSERA_KEY, else the local admin key in ./.dev.vars
              written by \`npm start\`). import needs the ingest scope, lookup
              profiles:read, export, keys and shards admin.

Output: the result as JSON on stdout; progress and messages on stderr.
Exit codes: 0 done, 2 import finished but some rows failed (see the errors file), 1 error.`;

const tty = process.stderr.isTTY;

function fail(message) {
  process.stderr.write(`tessera: ${message}\n`);
  process.exit(1);
}

/** A failed call in one line: what the server said, and what to do about the usual causes. */
/** "1 row", "2 rows". */
const count = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function explain(err, context) {
  if (!(err instanceof TesseraError)) {
    const cause = err?.cause?.message ?? err?.message ?? String(err);
    // Connection refused on the local default address: the Worker is not running.
    const refused = /ECONNREFUSED|fetch failed/.test(`${cause} ${err?.cause?.code ?? ""}`);
    return `${context}: cannot reach Tessera (${cause})${refused ? ' — is it running? Start it with "npm start", or pass --endpoint' : ""}`;
  }
  const hint =
    err.status === 401
      ? " — check --key / TESSERA_KEY"
      : err.status === 403
        ? " — the key lacks the scope this needs"
        : "";
  return `${context}: ${err.status} ${err.code}: ${err.apiMessage}${hint}${err.requestId ? ` (request ${err.requestId})` : ""}`;
}

function localAdminKey() {
  const file = path.resolve(".dev.vars");
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").match(/^TESSERA_ADMIN_KEY\s*=\s*"?([^"\n]+)"?/m)?.[1];
}

function connect(options) {
  const endpoint = options.endpoint ?? process.env.TESSERA_ENDPOINT ?? "http://localhost:8787";
  const key = options.key ?? process.env.TESSERA_KEY ?? localAdminKey();
  if (!key) fail("no API key: pass --key, set TESSERA_KEY, or run `npm start` here first");
  return createClient({ baseUrl: endpoint, key });
}

function human(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A progress line: a bar on a terminal, a line per quarter otherwise. */
function progress(label) {
  let lastQuarter = -1;
  return {
    update(done, total, extra = "") {
      const ratio = total > 0 ? Math.min(done / total, 1) : 0;
      if (tty) {
        const width = 28;
        const filled = Math.round(ratio * width);
        process.stderr.write(
          `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${extra}\x1b[K`,
        );
      } else {
        const quarter = Math.floor(ratio * 4);
        if (quarter !== lastQuarter) {
          lastQuarter = quarter;
          process.stderr.write(`${label}: ${Math.round(ratio * 100)}% ${extra}\n`);
        }
      }
    },
    done(message) {
      if (tty) process.stderr.write(`\r${label}: ${message}\x1b[K\n`);
      else process.stderr.write(`${label}: ${message}\n`);
    },
  };
}

const print = (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function importFile(file, options) {
  if (!file) fail(`import needs a FILE (see tessera --help)`);
  if (!options.dataset) fail(`import needs --dataset NAME (see tessera --help)`);
  if (!existsSync(file)) fail(`no such file: ${file}`);
  const format =
    options.format ??
    (/\.(nd)?jsonl?$/i.test(file) ? "ndjson" : /\.csv$/i.test(file) ? "csv" : undefined);
  if (format !== "csv" && format !== "ndjson") fail("say --format csv or --format ndjson");
  const tessera = connect(options);
  const errorsFile = `${file}.errors.ndjson`;

  // Key and dataset first: a bad key or a missing dataset is reported before any upload.
  const dataset = await unwrap(
    tessera.v1.datasets[":name"].$get({ param: { name: options.dataset } }),
  ).catch((err) => {
    if (err instanceof TesseraError && err.status === 404) {
      fail(
        `no dataset "${options.dataset}": create it first (PUT /v1/datasets/${options.dataset}, e.g. {"kind":"records"})`,
      );
    }
    fail(explain(err, "checking the key and dataset"));
  });
  if (dataset.kind === "events" && format === "csv")
    process.stderr.write(
      `note: ${options.dataset} holds events; CSV rows become records and will be refused\n`,
    );

  const size = statSync(file).size;
  const upload = progress("upload");
  let sent = 0;
  const counter = new Transform({
    transform(chunk, _encoding, callback) {
      sent += chunk.length;
      upload.update(sent, size, `${human(sent)} / ${human(size)}`);
      callback(null, chunk);
    },
  });
  const started = Date.now();
  const { batchId } = await unwrap(
    tessera.v1.batches.$post(
      { query: { dataset: options.dataset, format } },
      {
        init: {
          body: Readable.toWeb(createReadStream(file).pipe(counter)),
          duplex: "half",
          headers: {
            "content-type": format === "csv" ? "text/csv" : "application/x-ndjson",
            "content-length": String(size),
          },
        },
      },
    ),
  ).catch((err) => fail(explain(err, "upload refused")));
  upload.done(`${human(size)} stored as batch ${batchId}`);

  // Progress is the server's own: how far into the stored file processing has come.
  const processing = progress("process");
  let batch;
  while (true) {
    batch = await unwrap(tessera.v1.batches[":id"].$get({ param: { id: batchId } })).catch((err) =>
      fail(explain(err, `reading batch ${batchId}`)),
    );
    processing.update(
      batch.bytesProcessed,
      batch.bytes,
      `${batch.rows.ingested} ingested, ${batch.rows.failed} failed`,
    );
    if (batch.status === "completed" || batch.status === "failed") break;
    await sleep(500);
  }
  const seconds = (Date.now() - started) / 1000;
  processing.done(`${batch.status} in ${seconds.toFixed(1)} s`);
  if (batch.status === "failed") fail(`batch ${batchId} failed: ${batch.error}`);

  const summary = {
    batchId,
    rows: batch.rows,
    seconds: Number(seconds.toFixed(1)),
    rowsPerSecond: Math.round(batch.rows.total / Math.max(seconds, 0.001)),
  };
  if (batch.rows.failed > 0) {
    const response = await tessera.v1.batches[":id"].errors.$get({ param: { id: batchId } });
    writeFileSync(errorsFile, await response.text());
    summary.errorsFile = path.resolve(errorsFile);
  } else {
    // A clean run leaves no errors file from an earlier run of the same file behind.
    rmSync(errorsFile, { force: true });
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.stderr.write(
    `${count(batch.rows.total, "row")}: ${batch.rows.ingested} ingested, ${batch.rows.failed} failed` +
      (summary.errorsFile ? ` — failed rows listed in ${summary.errorsFile}` : "") +
      "\n",
  );
  process.exit(batch.rows.failed > 0 ? 2 : 0);
}

async function lookup(identity, options) {
  const at = identity?.indexOf(":") ?? -1;
  if (!identity || at <= 0 || at === identity.length - 1)
    fail("lookup needs NAMESPACE:ID, e.g. tessera lookup email:ann@example.com");
  const tessera = connect(options);
  const profile = await unwrap(
    tessera.v1.profiles["by-identity"][":namespace"][":id"].$get({
      param: { namespace: identity.slice(0, at), id: identity.slice(at + 1) },
      query: options.include ? { include: options.include } : {},
    }),
  ).catch((err) => fail(explain(err, `lookup ${identity}`)));
  print(profile);
}

async function exportNow(destination, options) {
  if (!destination) fail("export needs a DESTINATION name (GET /v1/destinations lists them)");
  const tessera = connect(options);
  const { runId } = await unwrap(
    tessera.v1.destinations[":name"].runs.$post({ param: { name: destination }, query: {} }),
  ).catch((err) => fail(explain(err, `export ${destination}`)));
  process.stderr.write(`export ${destination}: run ${runId} started\n`);
  while (true) {
    const runs = await unwrap(
      tessera.v1.destinations[":name"].runs.$get({ param: { name: destination } }),
    ).catch((err) => fail(explain(err, `export ${destination}`)));
    const run = runs.items.find((r) => r.runId === runId);
    if (run && (run.status === "completed" || run.status === "failed")) {
      print(run);
      if (run.status === "failed") fail(`export ${destination} failed: ${run.error}`);
      process.stderr.write(
        `export ${destination}: ${run.rows} ${run.content} ${run.rows === 1 ? "row" : "rows"} in ${count(run.parts.length, "part")}${run.manifest ? `, manifest ${run.manifest}` : ""}\n`,
      );
      return;
    }
    await sleep(500);
  }
}

async function keys([action, arg], options) {
  const tessera = connect(options);
  if (action === undefined || action === "list") {
    print((await unwrap(tessera.v1.keys.$get()).catch((err) => fail(explain(err, "keys")))).items);
  } else if (action === "create") {
    if (!arg) fail("keys create needs a NAME");
    const kind = options.public ? "public" : "secret";
    const scopes = options.public
      ? []
      : (options.scopes ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
    const origins = (options.origins ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const created = await unwrap(
      tessera.v1.keys.$post({
        json: { name: arg, kind, scopes, ...(origins.length ? { origins } : {}) },
      }),
    ).catch((err) => fail(explain(err, "keys create")));
    print(created);
    process.stderr.write("The key is shown only now: store it.\n");
  } else if (action === "delete") {
    if (!arg) fail("keys delete needs a KEY_ID (tessera keys lists them)");
    await unwrap(tessera.v1.keys[":id"].$delete({ param: { id: arg } })).catch((err) =>
      fail(explain(err, "keys delete")),
    );
    process.stderr.write(`deleted ${arg}\n`);
  } else {
    fail(`unknown keys action "${action}": use list, create or delete`);
  }
}

async function shards(options) {
  const tessera = connect(options);
  print(await unwrap(tessera.v1.admin.shards.$get()).catch((err) => fail(explain(err, "shards"))));
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      dataset: { type: "string" },
      format: { type: "string" },
      include: { type: "string" },
      scopes: { type: "string" },
      origins: { type: "string" },
      public: { type: "boolean" },
      endpoint: { type: "string" },
      key: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (err) {
  fail(`${err.message.split("\n")[0]} (see tessera --help)`);
}
const { values, positionals } = parsed;
const [command, ...rest] = positionals;
if (values.help || !command) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command || values.help ? 0 : 1);
}
if (command === "import") await importFile(rest[0], values);
else if (command === "lookup") await lookup(rest[0], values);
else if (command === "export") await exportNow(rest[0], values);
else if (command === "keys") await keys(rest, values);
else if (command === "shards") await shards(values);
else fail(`unknown command "${command}" (see tessera --help)`);

#!/usr/bin/env node
// Tessera command line: `tessera import FILE --dataset NAME` uploads a CSV or NDJSON file
// to /v1/batches, shows progress while uploading and while the batch is processed, and
// ends with the counts (and an errors file when rows failed).
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { parseArgs } from "node:util";

const USAGE = `Usage:
  tessera import FILE --dataset NAME [--format csv|ndjson] [--endpoint URL] [--key KEY]

Options:
  --dataset   dataset to write to (create it first: PUT /v1/datasets/NAME)
  --format    csv or ndjson (default: from the file extension)
  --endpoint  Tessera base URL (default: $TESSERA_ENDPOINT or http://localhost:8787)
  --key       API key with the ingest scope (default: $TESSERA_KEY, else the local
              admin key in ./.dev.vars written by \`npm start\`)

Exit codes: 0 all rows ingested, 2 some rows failed (see the errors file), 1 error.`;

const tty = process.stderr.isTTY;

function fail(message) {
  process.stderr.write(`tessera: ${message}\n`);
  process.exit(1);
}

function localAdminKey() {
  const file = path.resolve(".dev.vars");
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").match(/^TESSERA_ADMIN_KEY\s*=\s*"?([^"\n]+)"?/m)?.[1];
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
        process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${extra}\x1b[K`);
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

async function api(endpoint, key, pathname, init = {}) {
  const response = await fetch(new URL(pathname, endpoint), {
    ...init,
    headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
  });
  return response;
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return `${response.status} ${body.error?.code}: ${body.error?.message}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function importFile(file, options) {
  if (!file) fail(`import needs a FILE\n\n${USAGE}`);
  if (!options.dataset) fail(`import needs --dataset\n\n${USAGE}`);
  if (!existsSync(file)) fail(`no such file: ${file}`);
  const format = options.format ?? (/\.(nd)?jsonl?$/i.test(file) ? "ndjson" : /\.csv$/i.test(file) ? "csv" : undefined);
  if (format !== "csv" && format !== "ndjson") fail("say --format csv or --format ndjson");
  const endpoint = options.endpoint ?? process.env.TESSERA_ENDPOINT ?? "http://localhost:8787";
  const key = options.key ?? process.env.TESSERA_KEY ?? localAdminKey();
  if (!key) fail("no API key: pass --key, set TESSERA_KEY, or run `npm start` here first");

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
  const body = Readable.toWeb(createReadStream(file).pipe(counter));
  const started = Date.now();
  const response = await api(endpoint, key, `/v1/batches?dataset=${encodeURIComponent(options.dataset)}&format=${format}`, {
    method: "POST",
    body,
    duplex: "half",
    headers: { "content-type": format === "csv" ? "text/csv" : "application/x-ndjson", "content-length": String(size) },
  }).catch((err) => fail(`cannot reach ${endpoint}: ${err.cause?.message ?? err.message}`));
  if (response.status !== 202) fail(`upload refused: ${await errorMessage(response)}`);
  const { batchId } = await response.json();
  upload.done(`${human(size)} stored as batch ${batchId}`);

  const processing = progress("process");
  let batch;
  while (true) {
    const res = await api(endpoint, key, `/v1/batches/${batchId}`);
    if (!res.ok) fail(`cannot read batch ${batchId}: ${await errorMessage(res)}`);
    batch = await res.json();
    const done = batch.rows.ingested + batch.rows.failed;
    // Progress by bytes is unknown server-side; rows so far against a running estimate.
    processing.update(batch.status === "completed" ? 1 : done, batch.status === "completed" ? 1 : Math.max(done * 1.05, 1), `${batch.rows.ingested} ingested, ${batch.rows.failed} failed`);
    if (batch.status === "completed" || batch.status === "failed") break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const seconds = (Date.now() - started) / 1000;
  processing.done(`${batch.status} in ${seconds.toFixed(1)} s`);
  if (batch.status === "failed") fail(`batch ${batchId} failed: ${batch.error}`);

  const summary = { batchId, rows: batch.rows, seconds: Number(seconds.toFixed(1)), rowsPerSecond: Math.round(batch.rows.total / seconds) };
  if (batch.rows.failed > 0) {
    const res = await api(endpoint, key, `/v1/batches/${batchId}/errors`);
    const errorsFile = `${file}.errors.ndjson`;
    writeFileSync(errorsFile, await res.text());
    summary.errorsFile = path.resolve(errorsFile);
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.stderr.write(
    `${batch.rows.total} rows: ${batch.rows.ingested} ingested, ${batch.rows.failed} failed` +
      (summary.errorsFile ? ` — failed rows listed in ${summary.errorsFile}` : "") + "\n",
  );
  process.exit(batch.rows.failed > 0 ? 2 : 0);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      dataset: { type: "string" },
      format: { type: "string" },
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
else fail(`unknown command "${command}"\n\n${USAGE}`);

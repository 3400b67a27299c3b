// Writes a CSV batch file for import checks and benchmarks:
//   node bench/make-batch-file.mjs --rows 10000 --bad 100 --out /tmp/customers.csv
// Bad rows come in three kinds, in turn: an invalid e-mail, a schema violation
// (loyalty.points not an integer, for a dataset whose schema says integer), and broken
// quoting. Their line numbers are printed as JSON so a check can compare.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { rng } from "../scripts/lib/demo-data.mjs";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "10000" },
    bad: { type: "string", default: "0" },
    out: { type: "string" },
    seed: { type: "string", default: "1" },
  },
});
const rows = Number(values.rows);
const bad = Number(values.bad);
const r = rng(Number(values.seed));
const every = bad > 0 ? Math.floor(rows / bad) : Infinity;

const lines = ["identity.crm,identity.email,firstName,lastName,address.city,loyalty.points,note"];
const badLines = [];
for (let i = 0; i < rows; i++) {
  const line = i + 2;
  const isBad = bad > 0 && i % every === every - 1 && badLines.length < bad;
  const kind = badLines.length % 3;
  let email = `person${i}@example.com`;
  let points = String(Math.floor(r() * 10000));
  let note = r() < 0.1 ? `"likes ""trail"" running, and hiking"` : "regular";
  if (isBad && kind === 0) email = `person${i}-at-example.com`;
  if (isBad && kind === 1) points = "lots";
  if (isBad && kind === 2) note = `"unbalanced"quote`;
  if (isBad) badLines.push(line);
  lines.push(`CRM-${100000 + i},${email},Name${i},"Last, ${i}",City${i % 50},${points},${note}`);
}
writeFileSync(values.out, lines.join("\n") + "\n");
process.stdout.write(JSON.stringify({ file: values.out, rows, badLines }) + "\n");

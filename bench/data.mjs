// Deterministic benchmark data: profiles with 1–6 identities, records from 3 datasets,
// and events. The same --seed always gives the same rows.
import { rng } from "../scripts/lib/demo-data.mjs";

const id = (namespace, value) => ({ namespace, id: value });
const DAY = 24 * 3600 * 1000;

export function* profiles(count, seed = 1) {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(r() * 6);
    const identities = [id("crm", `B${i}`)];
    if (n > 1) identities.push(id("email", `user${i}@bench.example`));
    if (n > 2) identities.push(id("phone", `+3161${String(i).padStart(7, "0")}`));
    if (n > 3) identities.push(id("loyalty", `BL${i}`));
    for (let d = 4; d < n; d++) identities.push(id("device", `bench-device-${i}-${d}-000000`));
    yield { i, identities, r: r() };
  }
}

export function recordsOf(p, now) {
  const at = new Date(now - (p.i % 60) * DAY).toISOString();
  const records = [
    {
      dataset: "bench-crm",
      identities: p.identities,
      timestamp: at,
      attributes: {
        firstName: `First${p.i}`,
        lastName: `Last${p.i}`,
        address: { city: `City${p.i % 100}` },
      },
    },
  ];
  if (p.r < 0.6)
    records.push({
      dataset: "bench-loyalty",
      identities: [p.identities[0]],
      timestamp: at,
      attributes: { loyalty: { tier: ["bronze", "silver", "gold"][p.i % 3], points: p.i % 5000 } },
    });
  if (p.r < 0.3)
    records.push({
      dataset: "bench-prefs",
      identities: [p.identities[0]],
      timestamp: at,
      attributes: { newsletter: p.i % 2 === 0, language: "nl" },
    });
  return records;
}

export function eventsOf(p, now) {
  return [0, 1].map((k) => ({
    id: `bench-${p.i}-${k}`,
    type: k === 0 ? "page.view" : "purchase",
    dataset: "bench-events",
    timestamp: new Date(now - ((p.i + k) % 60) * DAY).toISOString(),
    identities: [p.identities[k % p.identities.length]],
    data: { amount: (p.i % 200) + k, sku: `SKU-${p.i % 50}` },
  }));
}

/** Every record and event of `count` generated profiles, timed relative to `now`. */
export function generate(count, now = Date.now()) {
  const records = [];
  const events = [];
  for (const p of profiles(count)) {
    records.push(...recordsOf(p, now));
    events.push(...eventsOf(p, now));
  }
  return { records, events };
}

export const BENCH_DATASETS = [
  ["bench-crm", "records"],
  ["bench-loyalty", "records"],
  ["bench-prefs", "records"],
  ["bench-events", "events"],
];

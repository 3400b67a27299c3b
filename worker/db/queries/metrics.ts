/**
 * Aggregates for the profile dashboard — SQL over indexes, never profile by profile.
 * Namespace counts and overlaps come from each profile's sorted namespace list (one short
 * column, grouped: a few hundred distinct lists at most), not from an index over identities.
 */
interface ProfileMetrics {
  total: number;
  added: { last7d: number; last30d: number };
  byNamespace: Record<string, number>;
  identityOverlap: { namespaces: [string, string]; profiles: number }[];
  graphSizes: { identities: string; profiles: number }[];
  merges: { last7d: number; last30d: number };
}

const DAY = 86_400_000;
const BUCKETS: [string, number, number][] = [
  ["1", 1, 1],
  ["2", 2, 2],
  ["3-5", 3, 5],
  ["6-10", 6, 10],
  ["11-25", 11, 25],
  ["26-50", 26, 50],
  ["51+", 51, Number.MAX_SAFE_INTEGER],
];

export async function profileMetrics(d1: D1Database, now = Date.now()): Promise<ProfileMetrics> {
  const [totals, shapes, merges] = await d1.batch<Record<string, any>>([
    d1
      .prepare(
        `SELECT (SELECT count(*) FROM profiles) AS total,
                (SELECT count(*) FROM profiles WHERE created_at >= ?1) AS d7,
                (SELECT count(*) FROM profiles WHERE created_at >= ?2) AS d30`,
      )
      .bind(now - 7 * DAY, now - 30 * DAY),
    d1.prepare(
      `SELECT namespaces, identity_count AS size, count(*) AS n FROM profiles GROUP BY namespaces, identity_count`,
    ),
    d1
      .prepare(
        `SELECT (SELECT count(*) FROM graph_history WHERE kind = 'merge' AND at >= ?1) AS d7,
                (SELECT count(*) FROM graph_history WHERE kind = 'merge' AND at >= ?2) AS d30`,
      )
      .bind(now - 7 * DAY, now - 30 * DAY),
  ]);
  const t = totals!.results[0]!;
  const m = merges!.results[0]!;
  const histogram = BUCKETS.map(([label]) => ({ identities: label, profiles: 0 }));
  const byNamespace: Record<string, number> = {};
  const overlap = new Map<string, number>();
  for (const row of shapes!.results) {
    const i = BUCKETS.findIndex(([, lo, hi]) => row.size >= lo && row.size <= hi);
    if (i >= 0) histogram[i]!.profiles += row.n;
    const namespaces: string[] = row.namespaces ? String(row.namespaces).split(",") : [];
    namespaces.forEach((a, k) => {
      byNamespace[a] = (byNamespace[a] ?? 0) + row.n;
      for (const b of namespaces.slice(k + 1))
        overlap.set(`${a},${b}`, (overlap.get(`${a},${b}`) ?? 0) + row.n);
    });
  }
  return {
    total: t.total,
    added: { last7d: t.d7, last30d: t.d30 },
    byNamespace,
    identityOverlap: [...overlap]
      .map(([pair, n]) => ({ namespaces: pair.split(",") as [string, string], profiles: n }))
      .sort(
        (x, y) => y.profiles - x.profiles || (x.namespaces.join() < y.namespaces.join() ? -1 : 1),
      ),
    graphSizes: histogram,
    merges: { last7d: m.d7, last30d: m.d30 },
  };
}

/** Aggregates for the profile dashboard — SQL over indexes, never profile by profile. */
export interface ProfileMetrics {
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
  const [totals, byNamespace, overlap, sizes, merges] = await d1.batch<Record<string, any>>([
    d1
      .prepare(
        `SELECT (SELECT count(*) FROM profiles) AS total,
                (SELECT count(*) FROM profiles WHERE created_at >= ?1) AS d7,
                (SELECT count(*) FROM profiles WHERE created_at >= ?2) AS d30`,
      )
      .bind(now - 7 * DAY, now - 30 * DAY),
    d1.prepare(`SELECT namespace, count(DISTINCT profile_id) AS n FROM identities GROUP BY namespace`),
    d1.prepare(
      `WITH held AS (SELECT DISTINCT namespace, profile_id FROM identities)
       SELECT a.namespace AS a, b.namespace AS b, count(*) AS n FROM held a JOIN held b
         ON a.profile_id = b.profile_id AND a.namespace < b.namespace GROUP BY a.namespace, b.namespace ORDER BY n DESC`,
    ),
    d1.prepare(`SELECT identity_count AS size, count(*) AS n FROM profiles GROUP BY identity_count`),
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
  for (const row of sizes!.results) {
    const i = BUCKETS.findIndex(([, lo, hi]) => row.size >= lo && row.size <= hi);
    if (i >= 0) histogram[i]!.profiles += row.n;
  }
  return {
    total: t.total,
    added: { last7d: t.d7, last30d: t.d30 },
    byNamespace: Object.fromEntries(byNamespace!.results.map((r) => [r.namespace, r.n])),
    identityOverlap: overlap!.results.map((r) => ({ namespaces: [r.a, r.b] as [string, string], profiles: r.n })),
    graphSizes: histogram,
    merges: { last7d: m.d7, last30d: m.d30 },
  };
}

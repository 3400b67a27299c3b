/**
 * "Did you mean …?" for misspelled names (fields, query parameters, CSV headers): the
 * closest candidate by edit distance, when it is close enough to be a typo.
 */

/** Levenshtein distance with transpositions counted as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate `name` most probably meant (case-insensitive; at most 2 edits, 1 for short names), or undefined. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const allowed = Math.min(2, Math.max(1, Math.floor(candidate.length / 3)));
    if (distance <= allowed && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** `unknown field "dat"` with `; did you mean "data"?` when one is close. */
export function unknownNameMessage(
  kind: string,
  name: string,
  candidates: Iterable<string>,
): string {
  const meant = closest(name, candidates);
  return `unknown ${kind} "${name}"${meant ? `; did you mean "${meant}"?` : ""}`;
}

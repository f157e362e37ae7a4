/**
 * The known key closest to a mistyped one, or undefined when none is close enough to be a
 * plausible typo (`instruction` → `instructions`, `max_steps` → `maxSteps`, `modle` → `model`).
 */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  const normalized = normalize(unknown);
  const sameWhenNormalized = known.find((key) => normalize(key) === normalized);
  if (sameWhenNormalized) return sameWhenNormalized;

  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const allowed = normalized.length <= 4 ? 1 : 2;
  for (const key of known) {
    const distance = editDistance(normalized, normalize(key));
    if (distance <= allowed && distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  if (best) return best;
  // A shortened key (`fallback` for `fallbackModels`) is a typo too, if long enough to be unique.
  if (normalized.length >= 4) {
    const extended = known.filter((key) => normalize(key).startsWith(normalized));
    if (extended.length === 1) return extended[0];
  }
  return undefined;
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(
        rows[i - 1]![j]! + 1,
        rows[i]![j - 1]! + 1,
        rows[i - 1]![j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}

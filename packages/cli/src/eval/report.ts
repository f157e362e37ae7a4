import type { api } from '@parley/protocol';
import type { Change } from './compare.ts';

const clip = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * The results as a table: one row per case (id, score, change against the previous result,
 * the first failing scorer or error), then the mean.
 */
export function formatTable(
  cases: readonly api.EvalCaseResult[],
  changes: ReadonlyMap<string, Change>,
  meanScore: number,
  previousMean: number | undefined,
): string {
  const rows = cases.map((c) => {
    const failing = c.error ?? c.scores.find((s) => s.score < 1);
    const note =
      typeof failing === 'string'
        ? failing
        : failing
          ? `${failing.scorer}: ${failing.detail ?? ''}`
          : '';
    return [c.id, c.score.toFixed(2), changes.get(c.id) ?? 'new', clip(note, 70)];
  });
  const header = ['case', 'score', 'vs previous', 'why not 1'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const delta =
    previousMean === undefined
      ? ''
      : ` (previous ${previousMean.toFixed(2)}, ${meanScore >= previousMean ? '+' : ''}${(meanScore - previousMean).toFixed(2)})`;
  const counts = (['better', 'worse', 'same', 'new'] as const)
    .map((kind) => [kind, [...changes.values()].filter((c) => c === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `mean ${meanScore.toFixed(2)}${delta} · ${cases.length} cases · ${counts}`,
  ].join('\n');
}

import type { api } from '@parley/protocol';

export type Change = 'better' | 'worse' | 'same' | 'new';

/** Each case against the same case of an earlier result of the dataset (by case id). */
export function compareCases(
  current: readonly api.EvalCaseResult[],
  previous: readonly api.EvalCaseResult[] | undefined,
): Map<string, Change> {
  const before = new Map((previous ?? []).map((c) => [c.id, c.score]));
  const changes = new Map<string, Change>();
  for (const c of current) {
    const old = before.get(c.id);
    changes.set(
      c.id,
      old === undefined
        ? 'new'
        : Math.abs(c.score - old) < 1e-9
          ? 'same'
          : c.score > old
            ? 'better'
            : 'worse',
    );
  }
  return changes;
}

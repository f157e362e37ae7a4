import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAssessor, type GuardConfigInput, parseGuardConfig } from '../src/index.ts';

/*
 * Recall and false positives on the held-out corpus (test/corpus/README.md): messages written
 * from public reports of crypto-community scams, apart from the rules. Three sets, each written
 * before the rules it measures: A before any change (then the round-1 rules were improved on
 * its misses), B after round 1 (then round 2 was improved on its misses), C after round 2 and
 * measured once. C is the honest estimate for new wording; A and B are what the rules were
 * tuned on. The floors sit below the measured values (docs/trust.md, "Measured").
 */

interface Sample {
  id: string;
  label: 'lure' | 'legit';
  kind: string;
  text: string;
}

const dir = new URL('./corpus/', import.meta.url);
const read = (file: string): Sample[] =>
  readFileSync(new URL(file, dir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Sample);
const workspace = JSON.parse(readFileSync(new URL('workspace.json', dir), 'utf8')) as {
  config: GuardConfigInput;
};
const assess = createAssessor(parseGuardConfig(workspace.config));

const SETS = [
  { name: 'A', lures: 'lures.jsonl', legit: 'legit.jsonl', recall: 0.95, falsePositives: 0.03 },
  {
    name: 'B',
    lures: 'holdout-lures.jsonl',
    legit: 'holdout-legit.jsonl',
    recall: 0.95,
    falsePositives: 0.02,
  },
  {
    name: 'C',
    lures: 'fresh-lures.jsonl',
    legit: 'fresh-legit.jsonl',
    recall: 0.6,
    falsePositives: 0.02,
  },
] as const;

describe('the held-out corpus', () => {
  for (const set of SETS) {
    it(`set ${set.name}: recall ≥ ${set.recall}, false positives ≤ ${set.falsePositives}`, () => {
      const lures = read(set.lures);
      const legit = read(set.legit);
      expect(
        lures.every((s) => s.label === 'lure') && legit.every((s) => s.label === 'legit'),
      ).toBe(true);
      const missed = lures.filter((s) => assess(s.text).verdict === 'allow');
      const alarms = legit.filter((s) => assess(s.text).verdict !== 'allow');
      const recall = (lures.length - missed.length) / lures.length;
      const falsePositives = alarms.length / legit.length;
      console.log(
        `held-out set ${set.name}: ${lures.length} lures, ${legit.length} legitimate; recall ${recall.toFixed(3)}, false positives ${falsePositives.toFixed(3)} (${alarms.length}); missed: ${missed.map((s) => s.id).join(' ')}`,
      );
      expect(recall).toBeGreaterThanOrEqual(set.recall);
      expect(falsePositives).toBeLessThanOrEqual(set.falsePositives);
    });
  }

  it('holds at least 150 lures and 150 legitimate messages', () => {
    const lures = SETS.flatMap((set) => read(set.lures));
    const legit = SETS.flatMap((set) => read(set.legit));
    expect(lures.length).toBeGreaterThanOrEqual(150);
    expect(legit.length).toBeGreaterThanOrEqual(150);
    expect(new Set([...lures, ...legit].map((s) => s.id)).size).toBe(lures.length + legit.length);
  });
});

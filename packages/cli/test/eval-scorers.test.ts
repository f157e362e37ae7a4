import { describe, expect, it } from 'vitest';
import { DatasetError, parseDataset } from '../src/eval/dataset.ts';
import { parseJudgeModel, readVerdict } from '../src/eval/judge.ts';
import { type CaseRun, score } from '../src/eval/scorers.ts';

/* The eval's pieces that need no server (docs/evals.md); eval.test.ts runs them end to end. */

const run: CaseRun = {
  output: 'The order ships Monday.',
  toolCalls: [{ name: 'lookup', args: { order: { id: '12', lines: [1, 2] }, verbose: true } }],
  steps: 2,
  durationMs: 900,
  costUsd: 0.002,
  tokens: 400,
};

describe('scorers', () => {
  it('match tool arguments as a subset, deeply', async () => {
    const called = (args: Record<string, unknown>) =>
      score({ type: 'tool_called', name: 'lookup', args }, 'q', run, undefined);
    expect((await called({ order: { id: '12' } })).score).toBe(1);
    expect((await called({ order: { lines: [1, 2] } })).score).toBe(1);
    expect((await called({ order: { lines: [1] } })).score).toBe(0);
    expect((await called({ order: { id: 12 } })).score).toBe(0);
  });

  it('score a failing judge 0 with why, and a missing one too', async () => {
    const judged = await score({ type: 'judge', rubric: 'r' }, 'q', run, async () => {
      throw new Error('connection refused');
    });
    expect(judged).toEqual({
      scorer: 'judge',
      score: 0,
      detail: 'the judge failed: connection refused',
    });
    expect((await score({ type: 'judge', rubric: 'r' }, 'q', run, undefined)).detail).toMatch(
      /--judge/,
    );
  });

  it('hold budgets: cost in dollars and tokens, latency', async () => {
    expect((await score({ type: 'cost', maxUsd: 0.001 }, 'q', run, undefined)).score).toBe(0);
    expect(
      (await score({ type: 'cost', maxUsd: 0.01, maxTokens: 500 }, 'q', run, undefined)).score,
    ).toBe(1);
    expect((await score({ type: 'latency', maxMs: 500 }, 'q', run, undefined)).score).toBe(0);
  });
});

describe('the judge', () => {
  it('reads provider/model, a model name with slashes included', () => {
    expect(parseJudgeModel('openrouter/anthropic/claude-sonnet-4.5')).toEqual({
      provider: 'openrouter',
      model: 'anthropic/claude-sonnet-4.5',
    });
    expect(() => parseJudgeModel('gpt-4.1')).toThrow(/<provider>\/<model>/);
  });

  it('reads a verdict inside prose, clamped to 0..1', () => {
    expect(readVerdict('Sure! {"score": 1.4, "reason": "great"} Bye')).toEqual({
      score: 1,
      reason: 'great',
    });
    expect(() => readVerdict('no JSON here')).toThrow(/JSON/);
  });
});

describe('datasets', () => {
  it('score a bare expected string with contains, and name ids by line', () => {
    const cases = parseDataset(
      '{"input": "a", "expected": "x"}\n\n{"input": "b", "criteria": [{"type": "max_steps", "max": 1}]}\n',
    );
    expect(cases.map((c) => [c.id, c.criteria[0]!.type])).toEqual([
      ['1', 'contains'],
      ['3', 'max_steps'],
    ]);
    expect(() => parseDataset('{"input": "a"}')).toThrow(DatasetError);
    expect(() =>
      parseDataset(
        '{"id": "x", "input": "a", "expected": "1"}\n{"id": "x", "input": "b", "expected": "2"}',
      ),
    ).toThrow(/twice/);
  });
});

import { z } from 'zod';
import type { Criterion } from './dataset.ts';

/** What a case's run gave: the scorers read only this. */
export interface CaseRun {
  output: string;
  toolCalls: { name: string; args: unknown }[];
  steps: number;
  durationMs: number;
  costUsd: number | null;
  tokens: number;
}

export interface Score {
  scorer: Criterion['type'];
  score: number;
  detail?: string;
}

/** Grades an answer against a rubric (the LLM judge): a score from 0 to 1 and why. */
export type Judge = (request: {
  input: string;
  output: string;
  rubric: string;
  model?: string | undefined;
}) => Promise<{ score: number; reason: string }>;

const pass = (scorer: Criterion['type'], ok: boolean, detail?: string): Score => ({
  scorer,
  score: ok ? 1 : 0,
  ...(ok || !detail ? {} : { detail }),
});

/** Whether `actual` holds every field of `expected` with an equal value (deeply). */
function containsArgs(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return Object.is(actual, expected);
  if (actual === null || typeof actual !== 'object') return false;
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => containsArgs(actual[i], item))
    );
  return Object.entries(expected).every(([key, value]) =>
    containsArgs((actual as Record<string, unknown>)[key], value),
  );
}

function jsonSchemaScore(output: string, schema: Record<string, unknown>): Score {
  let value: unknown;
  try {
    // An answer in a fenced block counts: models like to fence JSON.
    value = JSON.parse(output.replace(/^\s*```(?:json)?\s*|\s*```\s*$/g, ''));
  } catch {
    return pass('json_schema', false, 'the answer is not JSON');
  }
  const parsed = z
    .fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0])
    .safeParse(value);
  if (parsed.success) return pass('json_schema', true);
  const issue = parsed.error.issues[0]!;
  return pass('json_schema', false, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** Scores one criterion; the judge is asked only for `judge` criteria. */
export async function score(
  criterion: Criterion,
  input: string,
  run: CaseRun,
  judge: Judge | undefined,
): Promise<Score> {
  switch (criterion.type) {
    case 'exact':
      return pass(
        'exact',
        run.output.trim() === criterion.value.trim(),
        `not exactly ${JSON.stringify(criterion.value)}`,
      );
    case 'contains': {
      const fold = (s: string) => (criterion.caseSensitive ? s : s.toLowerCase());
      return pass(
        'contains',
        fold(run.output).includes(fold(criterion.value)),
        `does not contain ${JSON.stringify(criterion.value)}`,
      );
    }
    case 'regex':
      return pass(
        'regex',
        new RegExp(criterion.pattern, criterion.flags).test(run.output),
        `does not match /${criterion.pattern}/`,
      );
    case 'json_schema':
      return jsonSchemaScore(run.output, criterion.schema);
    case 'tool_called': {
      const calls = run.toolCalls.filter((call) => call.name === criterion.name);
      const ok = calls.some((call) => !criterion.args || containsArgs(call.args, criterion.args));
      const why = calls.length
        ? `${criterion.name} was called with other arguments`
        : `${criterion.name} was not called`;
      return pass('tool_called', ok, why);
    }
    case 'max_steps':
      return pass(
        'max_steps',
        run.steps <= criterion.max,
        `${run.steps} steps, more than ${criterion.max}`,
      );
    case 'latency':
      return pass(
        'latency',
        run.durationMs <= criterion.maxMs,
        `${Math.round(run.durationMs)} ms, over ${criterion.maxMs} ms`,
      );
    case 'cost': {
      const overUsd = criterion.maxUsd !== undefined && (run.costUsd ?? 0) > criterion.maxUsd;
      const overTokens = criterion.maxTokens !== undefined && run.tokens > criterion.maxTokens;
      return pass(
        'cost',
        !overUsd && !overTokens,
        overTokens
          ? `${run.tokens} tokens, over ${criterion.maxTokens}`
          : `$${run.costUsd}, over $${criterion.maxUsd}`,
      );
    }
    case 'judge': {
      if (!judge)
        return {
          scorer: 'judge',
          score: 0,
          detail: 'no judge model: pass --judge <provider/model>',
        };
      try {
        const verdict = await judge({
          input,
          output: run.output,
          rubric: criterion.rubric,
          model: criterion.model,
        });
        return { scorer: 'judge', score: verdict.score, detail: verdict.reason.slice(0, 2_000) };
      } catch (error) {
        // The judge failing is this criterion's 0, with why; the case's other scores stand.
        const message = error instanceof Error ? error.message : String(error);
        return {
          scorer: 'judge',
          score: 0,
          detail: `the judge failed: ${message}`.slice(0, 2_000),
        };
      }
    }
  }
}

import type { ParleyClient } from '@parley/client';
import type { api } from '@parley/protocol';
import { textOf, toolCallsOf, usageOf } from '@parley/protocol';
import type { EvalCase } from './dataset.ts';
import { type CaseRun, type Judge, type Score, score } from './scorers.ts';

export interface RunCasesOptions {
  client: ParleyClient;
  workspaceId: string;
  agent: string;
  version: number | 'draft' | undefined;
  cases: readonly EvalCase[];
  /** Cases running at once. */
  concurrency: number;
  judge: Judge | undefined;
  /** Told after each case (the progress bar). */
  onCase?: (done: number, total: number) => void;
}

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** Runs one case against the agent and scores it; a run that fails scores 0 with its error. */
async function runCase(options: RunCasesOptions, c: EvalCase): Promise<api.EvalCaseResult> {
  const base = { id: c.id, input: clip(c.input, 10_000), tags: c.tags };
  const started = performance.now();
  let runId: string | null = null;
  try {
    const stream = await startRun(options, c.input);
    runId = stream.runId;
    for await (const _ of stream) {
      // Folded by the stream's reducer as it goes.
    }
    const { state } = stream;
    const usage = usageOf(state);
    const run: CaseRun = {
      output: textOf(state),
      toolCalls: toolCallsOf(state).map((call) => ({ name: call.name, args: call.args })),
      steps: state.steps.filter((step) => step.status !== 'reset').length,
      durationMs: state.timing?.durationMs ?? performance.now() - started,
      costUsd: usage.costUsd ?? null,
      tokens: usage.inputTokens + usage.outputTokens,
    };
    const scores: Score[] = [];
    for (const criterion of c.criteria)
      scores.push(await score(criterion, c.input, run, options.judge));
    const failed = state.status !== 'finished';
    return {
      ...base,
      score: failed ? 0 : mean(scores.map((s) => s.score)),
      scores: scores.map((s) => ({ ...s, score: failed ? 0 : s.score })),
      output: clip(run.output, 10_000),
      runId,
      durationMs: Math.round(run.durationMs),
      ...(failed
        ? { error: clip(state.error?.message ?? `the run ended ${state.status}`, 2_000) }
        : {}),
    };
  } catch (error) {
    return {
      ...base,
      score: 0,
      scores: [],
      output: '',
      runId,
      durationMs: null,
      error: clip(error instanceof Error ? error.message : String(error), 2_000),
    };
  }
}

/** Attempts at starting a case's run when the server says to wait (429, 503). */
const START_ATTEMPTS = 4;

/**
 * Starts a case's run; a server shedding load (429) or starting (503) is asked again after
 * the wait it names (or a short backoff), so a busy server does not score cases 0.
 */
async function startRun(options: RunCasesOptions, input: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await options.client.runs.stream(options.workspaceId, options.agent, {
        input,
        ...(options.version !== undefined ? { version: options.version } : {}),
      });
    } catch (error) {
      const { status, problem } = error as { status?: number; problem?: { retryAfterMs?: number } };
      if (attempt >= START_ATTEMPTS || (status !== 429 && status !== 503)) throw error;
      const wait = Math.min(problem?.retryAfterMs ?? 250 * 2 ** attempt, 10_000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

export const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;

/** Runs every case, `concurrency` at a time, and gives their results in dataset order. */
export async function runCases(options: RunCasesOptions): Promise<api.EvalCaseResult[]> {
  const results: api.EvalCaseResult[] = new Array(options.cases.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < options.cases.length) {
      const index = next++;
      results[index] = await runCase(options, options.cases[index]!);
      options.onCase?.(++done, options.cases.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.cases.length) }, worker),
  );
  return results;
}

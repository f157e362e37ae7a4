import { createEventStamper, type ParleyEvent } from '@parley/protocol';

const USAGE = {
  inputTokens: 1,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 1,
  costSource: 'unknown',
} as const;

/**
 * A conformant run as the run manager would produce it: run.start, one step answering with
 * `deltas` text deltas of `delta`, run.finish (so `deltas + 6` events, the finish last).
 */
export function textRun(
  runId: string,
  { deltas = 1, delta = 'hello' }: { deltas?: number; delta?: string } = {},
): ParleyEvent[] {
  const stamper = createEventStamper({ runId });
  return [
    stamper.stamp({
      type: 'run.start',
      agentId: 'a',
      conversationId: 'c',
      startedAt: new Date().toISOString(),
    }),
    stamper.stamp({
      type: 'step.start',
      stepIndex: 0,
      provider: 'scripted',
      model: 'm',
      attempt: 1,
    }),
    stamper.stamp({ type: 'text.start', partId: 'p' }),
    ...Array.from({ length: deltas }, () =>
      stamper.stamp({ type: 'text.delta', partId: 'p', delta }),
    ),
    stamper.stamp({ type: 'text.end', partId: 'p' }),
    stamper.stamp({
      type: 'step.finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: USAGE,
      timing: { durationMs: 1, retries: 0 },
    }),
    stamper.stamp({
      type: 'run.finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: USAGE,
      timing: { durationMs: 1, steps: 1 },
    }),
  ];
}

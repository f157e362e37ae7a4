import type { StepTiming } from '@parley/protocol';

/**
 * Measures one step: request sent → response headers (ttfb), → first content-bearing delta
 * (ttft: text, reasoning or tool call; keep-alives and empty role chunks must not be reported),
 * → first text delta, and the whole duration.
 */
export function startStepTimer(now: () => number = () => performance.now()) {
  const started = now();
  let ttfbMs: number | undefined;
  let ttftMs: number | undefined;
  let ttftTextMs: number | undefined;
  const since = () => Math.round((now() - started) * 1000) / 1000;
  return {
    /** Response headers arrived. */
    headers() {
      ttfbMs ??= since();
    },
    /** A content-bearing delta arrived; `text` when it was assistant text (not a refusal). */
    content(kind: 'text' | 'refusal' | 'reasoning' | 'tool_call') {
      ttftMs ??= since();
      if (kind === 'text') ttftTextMs ??= since();
    },
    finish(outputTokens: number | undefined, retries: number): StepTiming {
      const durationMs = since();
      const timing: StepTiming = { durationMs, retries };
      if (ttfbMs !== undefined) timing.ttfbMs = ttfbMs;
      if (ttftMs !== undefined) timing.ttftMs = ttftMs;
      if (ttftTextMs !== undefined) timing.ttftTextMs = ttftTextMs;
      // Tokens per second over the streaming phase (first token → end), when both are known.
      if (outputTokens !== undefined && ttftMs !== undefined && durationMs > ttftMs) {
        timing.outputTokensPerSec =
          Math.round((outputTokens / ((durationMs - ttftMs) / 1000)) * 10) / 10;
      }
      return timing;
    },
  };
}
export type StepTimer = ReturnType<typeof startStepTimer>;

import {
  carriesContent,
  type ParleyError,
  type StepEventPayload,
  streamError,
} from '@parley/protocol';
import { retryDelayMs, sleep } from './retry.ts';

export interface AttemptContext {
  /** 1-based attempt number. */
  attempt: number;
  /** Retries spent so far (attempt - 1), for `step.finish.timing.retries`. */
  retries: number;
  signal: AbortSignal | undefined;
}

export interface AttemptsOptions {
  provider: string;
  model: string;
  stepIndex: number;
  maxRetries: number;
  signal: AbortSignal | undefined;
  /** Overridable for tests: how long to wait before retry `n` after `error`. */
  delayMs?: (error: ParleyError, retry: number) => number;
  /**
   * A provider that asks for a longer wait than this is not retried here: the error (with its
   * `retryAfterMs`) goes to the caller, who can schedule it, instead of a silent stall. The
   * official SDKs likewise only honour `retry-after` values up to 60 s.
   */
  maxRetryWaitMs?: number;
  /**
   * When the step's wait for a first byte ends (`performance.now()` time): no retry starts
   * whose backoff would reach it.
   */
  deadline?: number;
}

/**
 * Runs one step with automatic retries. Each attempt yields the step's parts and ends with
 * `step.finish`. A retryable error before any content (`carriesContent`, @parley/protocol)
 * makes the attempt end in `step.reset` (with the error) instead, and a new `step.start` with `attempt + 1` follows after the
 * provider's `retry-after` or a backoff. Once content was streamed, nothing is retried.
 */
export async function* runAttempts(
  options: AttemptsOptions,
  attempt: (context: AttemptContext) => AsyncIterable<StepEventPayload>,
): AsyncGenerator<StepEventPayload> {
  const delayMs = options.delayMs ?? retryDelayMs;
  for (let n = 1; ; n++) {
    yield {
      type: 'step.start',
      stepIndex: options.stepIndex,
      provider: options.provider,
      model: options.model,
      attempt: n,
    };
    let sawContent = false;
    let finish: Extract<StepEventPayload, { type: 'step.finish' }> | undefined;
    for await (const payload of attempt({ attempt: n, retries: n - 1, signal: options.signal })) {
      if (payload.type === 'step.finish') {
        finish = payload;
        break;
      }
      if (carriesContent(payload)) sawContent = true;
      yield payload;
    }
    // Every attempt here ends with step.finish (streamStep and the scripted model always
    // yield one); a model stream that does not is ended by the run loop, the one guard.
    if (!finish) return;
    const error = finish.error;
    const wait = error ? delayMs(error, n) : 0;
    const retry =
      error?.retryable === true &&
      !sawContent &&
      n <= options.maxRetries &&
      (error.retryAfterMs ?? 0) <= (options.maxRetryWaitMs ?? 60_000) &&
      (options.deadline === undefined || performance.now() + wait < options.deadline) &&
      !options.signal?.aborted;
    if (!retry) {
      yield finish;
      return;
    }
    yield { type: 'step.reset', reason: 'retry', error };
    const waited = await sleep(wait, options.signal);
    if (!waited) {
      // Cancelled while waiting: one last (empty) attempt that reports the cancellation.
      yield {
        type: 'step.start',
        stepIndex: options.stepIndex,
        provider: options.provider,
        model: options.model,
        attempt: n + 1,
      };
      yield {
        type: 'step.finish',
        finishReason: { unified: 'error' },
        timing: { durationMs: 0, retries: n },
        error: streamError('cancelled', 'cancelled while waiting to retry'),
      };
      return;
    }
  }
}

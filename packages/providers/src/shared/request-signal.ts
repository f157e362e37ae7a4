/** How long one attempt may wait for the provider. */
export interface RequestLimits {
  /** Request sent → the provider's first byte (its response headers). */
  firstByteMs: number;
  /** The step's whole first-byte limit, which an error names (default: `firstByteMs`). */
  stepFirstByteMs?: number;
  /** Longest silence once the response has started: no bytes of the stream for this long. */
  stallMs: number;
}

/** Which limit ended an attempt. */
export type ExpiredLimit = { limit: 'first_byte' | 'stall'; ms: number };

/**
 * One attempt's abort signal: aborts when the caller's signal aborts (`cancelled`) or when the
 * provider stays silent longer than allowed (`timeout`: no first byte within `firstByteMs`, or
 * no bytes for `stallMs` since the last `touch()`), and remembers which came first so a failed
 * fetch or body read can be reported with the right code. The stall limit is an idle limit,
 * not a total one, so a long answer that keeps streaming is never cut off. `dispose()` aborts
 * too, which closes the connection when a consumer stops reading early; `dispose(true)` after
 * the body was read to its end only lets go (an abort costs an exception and its listeners).
 */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** Why the attempt was aborted, if it was. */
  readonly reason: 'cancelled' | 'timeout' | undefined;
  /** The limit that expired, when the reason is `timeout`. */
  readonly expired: ExpiredLimit | undefined;
  /** Bytes arrived (the headers, a chunk): restart the silence timer, now the stall limit. */
  touch(): void;
  /** Stops the timer; aborts unless `bodyDone` (the response was read to its end). */
  dispose(bodyDone?: boolean): void;
}

export function createRequestSignal(
  outer: AbortSignal | undefined,
  limits: RequestLimits,
): RequestSignal {
  const controller = new AbortController();
  let reason: 'cancelled' | 'timeout' | undefined;
  let expired: ExpiredLimit | undefined;
  let timeoutMs = limits.firstByteMs;
  let current: ExpiredLimit = {
    limit: 'first_byte',
    ms: limits.stepFirstByteMs ?? limits.firstByteMs,
  };
  const onAbort = () => {
    reason ??= 'cancelled';
    controller.abort(outer?.reason);
  };
  const expire = () => {
    reason ??= 'timeout';
    expired ??= current;
    controller.abort(new DOMException(`no data for ${timeoutMs} ms`, 'TimeoutError'));
  };
  let timer = setTimeout(expire, timeoutMs);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    get reason() {
      return reason;
    },
    get expired() {
      return expired;
    },
    touch() {
      if (controller.signal.aborted) return;
      // Called for every chunk: once on the stall limit, the same timer just starts over.
      if (current.limit === 'stall') {
        timer.refresh();
        return;
      }
      clearTimeout(timer);
      timeoutMs = limits.stallMs;
      current = { limit: 'stall', ms: limits.stallMs };
      timer = setTimeout(expire, timeoutMs);
    },
    dispose(bodyDone = false) {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      if (!bodyDone && !controller.signal.aborted) controller.abort();
    },
  };
}

/**
 * One attempt's abort signal: aborts when the caller's signal aborts (`cancelled`) or when the
 * attempt's time limit passes (`timeout`), and remembers which came first so a failed fetch or
 * body read can be reported with the right code. `dispose()` aborts too, which closes the
 * connection when a consumer stops reading early.
 */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** Why the attempt was aborted, if it was. */
  readonly reason: 'cancelled' | 'timeout' | undefined;
  dispose(): void;
}

export function createRequestSignal(
  outer: AbortSignal | undefined,
  timeoutMs: number,
): RequestSignal {
  const controller = new AbortController();
  let reason: 'cancelled' | 'timeout' | undefined;
  const onAbort = () => {
    reason ??= 'cancelled';
    controller.abort(outer?.reason);
  };
  const timer = setTimeout(() => {
    reason ??= 'timeout';
    controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    get reason() {
      return reason;
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort();
    },
  };
}

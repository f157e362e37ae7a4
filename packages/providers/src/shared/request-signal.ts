/**
 * One attempt's abort signal: aborts when the caller's signal aborts (`cancelled`) or when the
 * provider stays silent longer than the time limit (`timeout`: no headers, or no bytes since
 * the last `touch()`), and remembers which came first so a failed fetch or body read can be
 * reported with the right code. It is an idle limit, not a total one, so a long answer that
 * keeps streaming is never cut off. `dispose()` aborts too, which closes the connection when
 * a consumer stops reading early.
 */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** Why the attempt was aborted, if it was. */
  readonly reason: 'cancelled' | 'timeout' | undefined;
  /** Bytes arrived: restart the silence timer. */
  touch(): void;
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
  const expire = () => {
    reason ??= 'timeout';
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
    touch() {
      if (controller.signal.aborted) return;
      clearTimeout(timer);
      timer = setTimeout(expire, timeoutMs);
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort();
    },
  };
}

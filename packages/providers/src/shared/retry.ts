import type { ParleyError } from '@parley/protocol';

/** Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … capped at 8 s, times [0.5, 1). */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const base = Math.min(8000, 500 * 2 ** Math.max(0, retry - 1));
  return Math.round(base * (0.5 + random() / 2));
}

/** How long to wait before retrying after this error: the provider's word, else backoff. */
export function retryDelayMs(error: ParleyError, retry: number): number {
  return error.retryAfterMs ?? backoffMs(retry);
}

/** Resolves after `ms`, or at once (with `false`) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

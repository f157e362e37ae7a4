/**
 * Counts failed authentication attempts per key (an address, an account) in a sliding window
 * and blocks the key for a while once it crosses the limit. In memory: each server instance
 * limits on its own (documented; a shared limiter would live in Redis).
 */
export interface FailureLimiterOptions {
  /** Failures allowed inside the window before the key is blocked. */
  limit: number;
  windowMs: number;
  /** How long a blocked key stays blocked. */
  blockMs: number;
  now?: () => number;
  /** Called once each time a key becomes blocked (a security signal). */
  onBlock?: (key: string, failures: number) => void;
}

export interface FailureLimiter {
  /** Milliseconds until the key may try again, or 0. */
  blockedFor(key: string): number;
  fail(key: string): void;
  succeed(key: string): void;
}

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const blocked = new Map<string, number>();
  const prune = (t: number) => {
    // Bounded memory: forget quiet keys whenever the map grows large.
    if (failures.size < 10_000 && blocked.size < 10_000) return;
    for (const [key, times] of failures)
      if (times.at(-1)! <= t - options.windowMs) failures.delete(key);
    for (const [key, until] of blocked) if (until <= t) blocked.delete(key);
  };
  return {
    blockedFor(key) {
      const until = blocked.get(key);
      if (until === undefined) return 0;
      const left = until - now();
      if (left > 0) return left;
      blocked.delete(key);
      return 0;
    },
    fail(key) {
      const t = now();
      prune(t);
      const recent = (failures.get(key) ?? []).filter((x) => x > t - options.windowMs);
      recent.push(t);
      failures.set(key, recent);
      if (recent.length >= options.limit && !blocked.has(key)) {
        blocked.set(key, t + options.blockMs);
        options.onBlock?.(key, recent.length);
      }
    },
    succeed(key) {
      failures.delete(key);
    },
  };
}

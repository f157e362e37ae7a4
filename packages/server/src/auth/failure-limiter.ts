import { createHash } from 'node:crypto';
import { type Bus, type CounterBackend, createLocalCounters } from '@parley/cluster';
import { z } from 'zod';

/**
 * Counts failed authentication attempts per key (an address, an account) in a window that
 * starts with the first failure, and blocks the key for a while once it reaches the limit.
 *
 * In a cluster the count is shared (Redis, else PostgreSQL: `@parley/cluster`'s counters), so
 * a burst split across instances is refused at the cluster-wide limit. The instance whose
 * failure reaches the limit blocks the key and says so on the bus; every instance then refuses
 * it without asking anyone (`blockedFor` stays in memory, on the hot path). A failure past the
 * limit is refused on any instance at once, bus or not: the shared count says so.
 */
export interface FailureLimiterOptions {
  /** Names its counters and its messages on the bus (`address`, `account`). */
  name: string;
  /** Failures allowed inside the window; the one that reaches it blocks the key. */
  limit: number;
  windowMs: number;
  /** How long a blocked key stays blocked. */
  blockMs: number;
  now?: () => number;
  /** Called once, on one instance, each time a key becomes blocked (a security signal). */
  onBlock?: (key: string, failures: number) => void;
  /** Shared counters (a cluster); default: this process alone. */
  counters?: CounterBackend;
  /** Tells other instances about a block at once. */
  bus?: Bus;
  onError?: (error: unknown) => void;
}

export interface FailureLimiter {
  /** Milliseconds until the key may try again, or 0. */
  blockedFor(key: string): number;
  /**
   * Counts a failure. Resolves with how long the key is blocked if this failure came past the
   * limit (refuse it as rate limited), else 0. Never rejects.
   */
  fail(key: string): Promise<number>;
  /** Starts the key's count over (a successful sign-in). */
  succeed(key: string): void;
}

const BlockMessage = z
  .object({
    type: z.literal('auth.blocked'),
    limiter: z.string().min(1).max(50),
    key: z.string().length(43),
    ms: z.int().min(1).max(86_400_000),
  })
  .strict();

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const now = options.now ?? Date.now;
  const counters = options.counters ?? createLocalCounters(now);
  /** Blocked keys (hashed: blocks arrive from the bus without the address or e-mail). */
  const blocked = new Map<string, number>();
  const hashOf = (key: string) =>
    createHash('sha256').update(`${options.name}\u0000${key}`).digest('base64url');
  const counterOf = (key: string) => `auth:${options.name}:${key}`;

  const block = (hash: string, ms: number) => {
    const until = now() + ms;
    if ((blocked.get(hash) ?? 0) >= until) return;
    if (blocked.size >= 50_000) {
      for (const [k, u] of blocked) if (u <= now()) blocked.delete(k);
      if (blocked.size >= 50_000) blocked.delete(blocked.keys().next().value!);
    }
    blocked.set(hash, until);
  };

  options.bus?.subscribe((message) => {
    if (message.type !== 'auth.blocked' || message.limiter !== options.name) return;
    const parsed = BlockMessage.safeParse(message);
    if (parsed.success) block(parsed.data.key, parsed.data.ms);
  });

  return {
    blockedFor(key) {
      const hash = hashOf(key);
      const until = blocked.get(hash);
      if (until === undefined) return 0;
      const left = until - now();
      if (left > 0) return left;
      blocked.delete(hash);
      return 0;
    },
    async fail(key) {
      try {
        const { count, ttlMs } = await counters.hit(counterOf(key), options.windowMs);
        if (count < options.limit) return 0;
        const hash = hashOf(key);
        if (count > options.limit) {
          // Blocked elsewhere already (or its message was lost): the shared count holds it.
          const left = Math.max(ttlMs, 1);
          block(hash, left);
          return left;
        }
        block(hash, options.blockMs);
        // The block outlasts the window: an instance started later still sees the count.
        await counters.hold(counterOf(key), options.blockMs);
        options.bus?.publish({
          type: 'auth.blocked',
          limiter: options.name,
          key: hash,
          ms: options.blockMs,
        });
        options.onBlock?.(key, count);
        return 0;
      } catch (error) {
        options.onError?.(error);
        return 0;
      }
    },
    succeed(key) {
      counters.reset(counterOf(key)).catch((error) => options.onError?.(error));
    },
  };
}

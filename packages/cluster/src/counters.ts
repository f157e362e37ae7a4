import { createHash } from 'node:crypto';
import type { BusLog } from './bus.ts';
import { createRedisCounters } from './counters-redis.ts';

/*
 * Counters every instance of a cluster adds to: failed token checks per address, failed
 * sign-ins per account, security-signal thresholds. A counter counts hits in a fixed window
 * that starts with its first hit. Kept in Redis when configured, else in PostgreSQL (the
 * store's `cluster_counters`), else (PGlite: one process) in this process. When the shared
 * store fails, this process counts on its own and says so in the log: limits then hold per
 * instance, never not at all.
 */

/** A counter's value after a hit, and how long its window still runs. */
export interface CounterHit {
  count: number;
  ttlMs: number;
}

/** Where counts are kept. Keys arrive hashed. */
export interface CounterBackend {
  /** Counts one more in `key`'s window (a new window of `windowMs` when none is running). */
  hit(key: string, windowMs: number): Promise<CounterHit>;
  /** Keeps `key`'s window running for at least `ms` more. */
  hold(key: string, ms: number): Promise<void>;
  /** Starts `key` over. */
  reset(key: string): Promise<void>;
}

export type CounterKind = 'local' | 'postgres' | 'redis';

export interface CounterStatus {
  /** What counters were configured as. */
  kind: CounterKind;
  /** What counts now: `local` while the shared store is down. */
  via: CounterKind;
}

export interface Counters extends CounterBackend {
  readonly kind: CounterKind;
  status(): CounterStatus;
  close(): Promise<void>;
}

export interface CountersOptions {
  /** Redis (PARLEY_REDIS_URL): counters live there, PostgreSQL's are the fallback. */
  redisUrl?: string;
  /** PostgreSQL's shared counters (the store's `system.cluster.counters`); none on PGlite. */
  database?: CounterBackend;
  log?: BusLog;
  /** Longest wait for the shared store before counting elsewhere (default 1,000 ms). */
  timeoutMs?: number;
  /** How long a failed store is skipped before it is tried again (default 2,000 ms). */
  retryMs?: number;
  /**
   * Which cluster the counts belong to (e.g. its database), so that clusters sharing one Redis
   * never add to each other's counts.
   */
  namespace?: string;
}

/** Counters in this process only, bounded in size. */
export function createLocalCounters(now: () => number = Date.now): CounterBackend {
  const entries = new Map<string, { count: number; until: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.until > now()) return entry;
    entries.delete(key);
    return undefined;
  };
  return {
    async hit(key, windowMs) {
      const t = now();
      let entry = live(key);
      if (!entry) {
        if (entries.size >= 50_000)
          for (const [k, e] of entries) if (e.until <= t) entries.delete(k);
        if (entries.size >= 50_000) entries.delete(entries.keys().next().value as string);
        entry = { count: 0, until: t + windowMs };
        entries.set(key, entry);
      }
      entry.count += 1;
      return { count: entry.count, ttlMs: Math.max(0, entry.until - t) };
    },
    async hold(key, ms) {
      const entry = live(key);
      if (entry) entry.until = Math.max(entry.until, now() + ms);
    },
    async reset(key) {
      entries.delete(key);
    },
  };
}

/** Counter keys leave the process hashed: no address or e-mail in Redis or the database. */
const hashOf = (namespace: string, key: string) =>
  createHash('sha256').update(`${namespace}\u0000${key}`).digest('base64url').slice(0, 32);

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The counters an instance uses: Redis, then PostgreSQL, then this process, each tried in turn
 * when the one before fails (a failed store is skipped for `retryMs`, then tried again).
 */
export function createCounters(options: CountersOptions = {}): Counters {
  const log = options.log;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const retryMs = options.retryMs ?? 2_000;
  const redis = options.redisUrl ? createRedisCounters(options.redisUrl, log) : undefined;
  const tiers: { kind: CounterKind; backend: CounterBackend }[] = [
    ...(redis ? [{ kind: 'redis' as const, backend: redis }] : []),
    ...(options.database ? [{ kind: 'postgres' as const, backend: options.database }] : []),
  ];
  const local = createLocalCounters();
  const hashed = (key: string) => hashOf(options.namespace ?? '', key);
  const kind: CounterKind = tiers[0]?.kind ?? 'local';
  /** Stores that failed: skipped until the time given, then tried again. */
  const failed = new Map<CounterKind, number>();

  async function run<T>(op: (backend: CounterBackend) => Promise<T>): Promise<T> {
    for (const [i, tier] of tiers.entries()) {
      if ((failed.get(tier.kind) ?? 0) > Date.now()) continue;
      try {
        const result = await withTimeout(op(tier.backend), timeoutMs);
        if (failed.delete(tier.kind)) log?.('info', `shared counters: ${tier.kind} counts again`);
        return result;
      } catch (error) {
        if (!failed.has(tier.kind))
          log?.(
            'warn',
            `shared counters: ${tier.kind} failed, ${tiers[i + 1]?.kind ?? 'this instance alone'} counts instead (limits hold per instance until it is back)`,
            error,
          );
        failed.set(tier.kind, Date.now() + retryMs);
      }
    }
    return op(local);
  }

  return {
    kind,
    hit: (key, windowMs) => run((b) => b.hit(hashed(key), windowMs)),
    hold: (key, ms) => run((b) => b.hold(hashed(key), ms)),
    reset: (key) => run((b) => b.reset(hashed(key))),
    status() {
      const up = tiers.find((t) => (failed.get(t.kind) ?? 0) <= Date.now());
      return { kind, via: up?.kind ?? 'local' };
    },
    async close() {
      await redis?.close();
    },
  };
}

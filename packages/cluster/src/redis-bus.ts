import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type * as Redis from '@redis/client';
import {
  type Bus,
  BusListeners,
  type BusLog,
  type BusStatus,
  createBatcher,
  parseMessages,
} from './bus.ts';
import { RedisPublisher } from './redis-publisher.ts';

export interface RedisBusOptions {
  url: string;
  /** The pub/sub channel (default `parley:bus`). */
  channel?: string;
  log?: BusLog;
  /** Longest wait between reconnection attempts (ms). */
  retryMaxMs?: number;
}

/**
 * The bus on Redis pub/sub: one connection subscribed (node-redis, which reconnects and
 * resubscribes by itself), one publishing (redis-publisher.ts: written at once, where
 * node-redis waits for the next turn of the event loop). Publishing while disconnected fails
 * at once (no offline queue) so a caller can fall back to PostgreSQL instead of waiting.
 */
export function createRedisBus(options: RedisBusOptions): Bus & { ready: Promise<void> } {
  const channel = options.channel ?? 'parley:bus';
  const listeners = new BusListeners();
  const log = options.log;
  const socket = {
    connectTimeout: 2_000,
    reconnectStrategy: (retries: number) =>
      Math.min(50 * 2 ** retries, options.retryMaxMs ?? 2_000),
  };
  const { createClient } = loadRedis();
  const pub = new RedisPublisher(options.url, {
    connectTimeoutMs: socket.connectTimeout,
    retryDelayMs: socket.reconnectStrategy,
  });
  const sub = createClient({ url: options.url, socket, disableOfflineQueue: true });
  let closed = false;
  let everUp = false;
  let up = false;
  let detail: string | undefined = 'connecting';

  const status = (): BusStatus => ({
    kind: 'redis',
    up,
    via: up ? 'redis' : 'none',
    ...(detail && !up ? { detail } : {}),
  });
  // Up when both connections are ready: a subscriber alone hears nothing this instance says.
  const update = (why?: string, failed = false) => {
    const next = pub.isReady && sub.isReady && !closed;
    // Still down: the latest error is the one to show (a wrong password, not "connecting").
    if (next === up) {
      if (!up && failed && why) detail = why;
      return;
    }
    up = next;
    detail = why;
    listeners.status(status());
    if (up && everUp) {
      log?.('info', 'the Redis bus is back');
      listeners.resync();
    }
    if (up) everUp = true;
    else if (!closed) log?.('warn', `the Redis bus is down${why ? `: ${why}` : ''}`);
  };
  for (const client of [pub, sub] as EventEmitter[]) {
    client.on('ready', () => update());
    client.on('error', (error: Error) => update(error.message, true));
    client.on('end', () => update('connection ended'));
  }
  sub.on('reconnecting', () => update('reconnecting'));

  // All of a send's payloads at once: one connection keeps them in order, and waiting for
  // each reply before the next publish held a burst's later messages a round trip each.
  const batcher = createBatcher(async (payloads) => {
    try {
      await Promise.all(payloads.map((payload) => pub.publish(channel, payload)));
    } catch (error) {
      log?.('warn', 'the Redis bus could not send', error);
    }
  }, 256_000);

  const ready = (async () => {
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.subscribe(channel, (payload) => listeners.deliver(parseMessages(payload), log));
    update();
  })();
  // A Redis that is down at start is retried by node-redis; `ready` then settles later.
  ready.catch((error: unknown) => update(error instanceof Error ? error.message : 'down', true));

  return {
    kind: 'redis',
    ready,
    publish: (message) => {
      if (!closed) batcher.push(message);
    },
    subscribe: (listener) => listeners.subscribe(listener),
    onResync: (listener) => listeners.onResync(listener),
    onStatus: (listener) => listeners.onStatus(listener),
    status,
    async close() {
      if (closed) return;
      await batcher.drain();
      closed = true;
      up = false;
      await Promise.all(
        [pub.destroy(), sub.destroy()].map((p) => Promise.resolve(p).catch(() => {})),
      );
    },
  };
}

/**
 * node-redis is ~500 modules: loaded when an instance is configured with Redis, not by every
 * server that imports this package (a PGlite server's start loaded them all; docs/performance.md).
 */
export function loadRedis(): typeof Redis {
  return createRequire(import.meta.url)('@redis/client') as typeof Redis;
}

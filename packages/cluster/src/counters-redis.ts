import type { BusLog } from './bus.ts';
import type { CounterBackend } from './counters.ts';
import { loadRedis } from './redis-bus.ts';

const PREFIX = 'parley:count:';

/** INCR, and PEXPIRE on the first hit of a window: one round trip, atomic. */
const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

/** Extends the window to at least ARGV[1] ms from now (never shortens it). */
const HOLD = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return ttl`;

/**
 * Counters in Redis. Commands fail at once while disconnected (no offline queue): the caller
 * counts elsewhere instead of waiting. node-redis reconnects by itself.
 */
export function createRedisCounters(
  url: string,
  log?: BusLog,
): CounterBackend & { close(): Promise<void> } {
  const client = loadRedis().createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
    },
  });
  // Errors surface as failed commands (the caller logs those); this keeps them off `error`.
  client.on('error', () => {});
  let closed = false;
  // The first commands wait for the first connection (bounded by the caller's timeout);
  // after that, a lost connection fails commands at once.
  const connected = client.connect().then(
    () => {},
    (error: unknown) => {
      if (!closed) log?.('warn', 'shared counters: Redis is unreachable', error);
    },
  );
  let firstConnection: Promise<void> | undefined = connected.then(() => {
    firstConnection = undefined;
  });
  return {
    async hit(key, windowMs) {
      if (firstConnection) await firstConnection;
      const reply = (await client.eval(HIT, {
        keys: [PREFIX + key],
        arguments: [String(windowMs)],
      })) as [number, number];
      return { count: Number(reply[0]), ttlMs: Math.max(0, Number(reply[1])) };
    },
    async hold(key, ms) {
      if (firstConnection) await firstConnection;
      await client.eval(HOLD, { keys: [PREFIX + key], arguments: [String(ms)] });
    },
    async reset(key) {
      if (firstConnection) await firstConnection;
      await client.del(PREFIX + key);
    },
    async close() {
      closed = true;
      await Promise.resolve(client.destroy()).catch(() => {});
    },
  };
}

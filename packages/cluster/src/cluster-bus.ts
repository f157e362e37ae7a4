import { type Bus, BusListeners, type BusLog, type BusMessage, type BusStatus } from './bus.ts';
import { createLocalBus } from './local-bus.ts';
import { createPostgresBus } from './postgres-bus.ts';
import { createRedisBus } from './redis-bus.ts';

export interface ClusterBusOptions {
  /** PostgreSQL (several instances may share it) or none (PGlite: one process owns the data). */
  databaseUrl?: string;
  /** Redis for the bus (PARLEY_REDIS_URL); PostgreSQL stays subscribed as the fallback. */
  redisUrl?: string;
  log?: BusLog;
}

/**
 * The bus an instance uses: in-process for PGlite (one process owns its data directory),
 * PostgreSQL LISTEN/NOTIFY on PostgreSQL, and Redis pub/sub when configured, with PostgreSQL
 * kept subscribed so that while Redis is down messages go through PostgreSQL instead.
 */
export function createClusterBus(options: ClusterBusOptions): Bus & { ready: Promise<void> } {
  if (!options.databaseUrl) return Object.assign(createLocalBus(), { ready: Promise.resolve() });
  const log = options.log;
  const postgres = createPostgresBus({ url: options.databaseUrl, ...(log ? { log } : {}) });
  if (!options.redisUrl) return postgres;
  return withFallback(
    createRedisBus({ url: options.redisUrl, ...(log ? { log } : {}) }),
    postgres,
    log,
  );
}

/**
 * Messages carrying an `id` (commands, replies) are delivered once even if both buses carry them.
 * Keyed by type and id: a reply carries its command's id, and an instance also receives the
 * commands it published, so an id alone would drop the reply to its own command.
 */
function createDeduper(size = 10_000) {
  const seen = new Set<string>();
  return (message: BusMessage): boolean => {
    if (typeof message.id !== 'string') return true;
    const id = `${message.type}:${message.id}`;
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > size) seen.delete(seen.values().next().value as string);
    return true;
  };
}

function withFallback(
  primary: Bus & { ready: Promise<void> },
  fallback: Bus & { ready: Promise<void> },
  log?: BusLog,
): Bus & { ready: Promise<void> } {
  const listeners = new BusListeners();
  const fresh = createDeduper();
  const deliver = (message: BusMessage) => {
    if (fresh(message)) listeners.deliver([message], log);
  };
  const status = (): BusStatus => {
    const [p, f] = [primary.status(), fallback.status()];
    if (p.up) return { kind: 'redis', up: true, via: 'redis' };
    if (f.up)
      return {
        kind: 'redis',
        up: true,
        via: 'postgres',
        detail: `Redis is down (${p.detail ?? 'unreachable'}): PostgreSQL carries the bus`,
      };
    return { kind: 'redis', up: false, via: 'none', detail: p.detail ?? f.detail ?? 'down' };
  };
  let last = status();
  const changed = () => {
    const next = status();
    if (next.via === last.via && next.up === last.up) return;
    if (next.via === 'postgres') log?.('warn', next.detail ?? 'the bus fell back to PostgreSQL');
    last = next;
    listeners.status(next);
  };
  for (const bus of [primary, fallback]) {
    bus.subscribe(deliver);
    bus.onResync(() => listeners.resync());
    bus.onStatus(changed);
  }
  return {
    kind: 'redis',
    // Ready once either carries messages: a Redis down at start is not a reason to wait.
    ready: Promise.any([primary.ready, fallback.ready]).then(() => {}),
    publish(message) {
      (primary.status().up ? primary : fallback).publish(message);
    },
    subscribe: (listener) => listeners.subscribe(listener),
    onResync: (listener) => listeners.onResync(listener),
    onStatus: (listener) => listeners.onStatus(listener),
    status,
    async close() {
      await Promise.all([primary.close(), fallback.close()]);
    },
  };
}

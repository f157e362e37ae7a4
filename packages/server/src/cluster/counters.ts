import { type Counters, createCounters } from '@parley/cluster';
import type { Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config.ts';

/**
 * The counters every instance of a cluster adds to (failed token checks and sign-ins, signal
 * thresholds): Redis when configured, PostgreSQL's `cluster_counters` as its fallback (or
 * alone), this process alone on PGlite or while both are down (said in the log).
 */
export function clusterCounters(
  config: ServerConfig,
  store: Store,
  log: FastifyBaseLogger,
): Counters {
  const shared = store.kind === 'postgres';
  return createCounters({
    // Clusters sharing one Redis keep apart: a cluster is its database.
    ...(shared && config.databaseUrl ? { namespace: databaseOf(config.databaseUrl) } : {}),
    ...(shared ? { database: store.system.cluster.counters } : {}),
    ...(shared && config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    log: (level, message, error) => log[level]({ err: error, counters: true }, message),
  });
}

/** The database a URL names (host, port, database name), without its credentials. */
function databaseOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '';
  }
}

import { bigint, boolean, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.ts';

/*
 * What the instances of a cluster share beyond the data itself (docs/scaling.md, "Cluster-wide
 * state"). System tables: no workspace, no content, the runtime role reads and writes them.
 */

/**
 * Counters in a fixed window, shared by every instance when there is no Redis: failed token
 * checks per address, failed sign-ins per account, security-signal thresholds. Keys are
 * hashes (never an address or an e-mail), rows past `expires_at` count as absent.
 */
export const clusterCounters = pgTable(
  'cluster_counters',
  {
    key: text('key').primaryKey(),
    count: integer('count').notNull(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [index('cluster_counters_expires_idx').on(t.expiresAt)],
);

/**
 * Timed jobs run once per cluster per tick: an instance runs a job's tick only if it is the
 * one that moved `last_tick` forward (ticks are numbered on the database's clock).
 */
export const clusterJobs = pgTable('cluster_jobs', {
  name: text('name').primaryKey(),
  lastTick: bigint('last_tick', { mode: 'number' }).notNull(),
  ranBy: text('ran_by'),
  ranAt: at('ran_at').notNull().defaultNow(),
});

/**
 * The plugin kill switch, as the operators last set it (it overrides PARLEY_DISABLED_PLUGINS):
 * every instance applies it, including those started later.
 */
export const pluginSwitches = pgTable('plugin_switches', {
  name: text('name').primaryKey(),
  disabled: boolean('disabled').notNull(),
  /** `user:<id>`, `token:<id>`: who set it. */
  changedBy: text('changed_by').notNull(),
  changedAt: at('changed_at').notNull().defaultNow(),
});

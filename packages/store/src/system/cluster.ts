import { asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows } from '../db.ts';
import { clusterCounters, pluginSwitches } from '../schema/index.ts';
import { parse, text } from '../validation.ts';
import type { SystemDeps } from './deps.ts';

/** A counter's value after a hit, and how long its window still runs. */
export interface CounterHit {
  count: number;
  ttlMs: number;
}

export interface PluginSwitch {
  name: string;
  disabled: boolean;
  changedBy: string;
  changedAt: Date;
}

const KeySchema = text(200, 1);
const MsSchema = z.int().min(1).max(86_400_000);
const JobSchema = text(200, 1);
const PluginSchema = text(214, 1);

/** One hit in a hundred also deletes counters whose window ended a while ago. */
const SWEEP_EVERY = 100;

/**
 * What the instances of a cluster share beyond the data (docs/scaling.md): counters in a fixed
 * window (when there is no Redis), which instance runs a timed job's tick, and the plugin
 * kill switch. System tables: no workspace, no content; counter keys are hashes.
 */
export function clusterSystem(deps: SystemDeps) {
  return {
    counters: {
      /** Counts one more in `key`'s window (a new window of `windowMs` if none is running). */
      async hit(key: string, windowMs: number): Promise<CounterHit> {
        const [k, ms] = [parse(KeySchema, key, 'counter key'), parse(MsSchema, windowMs, 'window')];
        const window = sql`now() + make_interval(secs => ${ms} / 1000.0)`;
        return deps.unscoped(async (tx) => {
          if (Math.random() * SWEEP_EVERY < 1)
            await tx.execute(
              sql`delete from cluster_counters where expires_at < now() - interval '1 minute'`,
            );
          // What is left of the window from this moment (clock_timestamp): a transaction that
          // began before the one that opened the window, then waited for its row, would count
          // from its own start (now()) and answer more than the window.
          const [row] = await queryRows<{ count: number; ttl_ms: number }>(
            tx,
            sql`insert into cluster_counters as c (key, count, expires_at) values (${k}, 1, ${window})
                on conflict (key) do update set
                  count = case when c.expires_at <= now() then 1 else c.count + 1 end,
                  expires_at = case when c.expires_at <= now() then excluded.expires_at else c.expires_at end
                returning c.count, greatest(0, ceil(extract(epoch from c.expires_at - clock_timestamp()) * 1000))::integer as ttl_ms`,
          );
          return { count: Number(row!.count), ttlMs: Number(row!.ttl_ms) };
        });
      },

      /** Keeps `key`'s window running for at least `ms` more (a block outlasts its window). */
      async hold(key: string, ms: number): Promise<void> {
        const [k, m] = [parse(KeySchema, key, 'counter key'), parse(MsSchema, ms, 'hold')];
        await deps.unscoped((tx) =>
          tx
            .update(clusterCounters)
            .set({
              expiresAt: sql`greatest(${clusterCounters.expiresAt}, now() + make_interval(secs => ${m} / 1000.0))`,
            })
            .where(eq(clusterCounters.key, k)),
        );
      },

      /** Starts `key` over (a successful sign-in forgets the account's failures). */
      async reset(key: string): Promise<void> {
        const k = parse(KeySchema, key, 'counter key');
        await deps.unscoped((tx) => tx.delete(clusterCounters).where(eq(clusterCounters.key, k)));
      },
    },

    jobs: {
      /**
       * Claims the current tick of a timed job (ticks of `intervalMs` on the database's clock):
       * the tick's number for exactly one caller per tick across the cluster, null for the rest.
       */
      async claimTick(job: string, intervalMs: number, by: string): Promise<number | null> {
        const name = parse(JobSchema, job, 'job');
        const ms = parse(MsSchema, intervalMs, 'interval');
        const who = parse(KeySchema, by, 'instance');
        const rows = await deps.unscoped((tx) =>
          queryRows<{ last_tick: number }>(
            tx,
            sql`insert into cluster_jobs as j (name, last_tick, ran_by, ran_at)
                values (${name}, floor(extract(epoch from now()) * 1000 / ${ms})::bigint, ${who}, now())
                on conflict (name) do update
                  set last_tick = excluded.last_tick, ran_by = excluded.ran_by, ran_at = excluded.ran_at
                  where j.last_tick < excluded.last_tick
                returning j.last_tick`,
          ),
        );
        return rows[0] ? Number(rows[0].last_tick) : null;
      },
    },

    pluginSwitches: {
      /** Every switch an operator set, by name. */
      async list(): Promise<PluginSwitch[]> {
        return deps.unscoped((tx) =>
          tx.select().from(pluginSwitches).orderBy(asc(pluginSwitches.name)),
        );
      },

      async set(name: string, disabled: boolean, by: string): Promise<void> {
        const n = parse(PluginSchema, name, 'plugin name');
        const who = parse(KeySchema, by, 'changed by');
        await deps.unscoped((tx) =>
          tx
            .insert(pluginSwitches)
            .values({ name: n, disabled, changedBy: who })
            .onConflictDoUpdate({
              target: pluginSwitches.name,
              set: { disabled, changedBy: who, changedAt: sql`now()` },
            }),
        );
      },
    },
  };
}

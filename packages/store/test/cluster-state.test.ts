import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.ts';

/*
 * What a cluster's instances share beyond the data (docs/scaling.md, "Cluster-wide state"):
 * counters in a fixed window, one claimer per tick of a timed job, the plugin kill switch.
 * All through the runtime role, with no workspace set.
 */

describeEachEngine('cluster state', (h) => {
  it('counts hits in a window, across concurrent callers, and starts over when it ends', async () => {
    const { counters } = h().store.system.cluster;
    const key = `k-${Math.random()}`;
    const hits = await Promise.all(Array.from({ length: 10 }, () => counters.hit(key, 60_000)));
    expect(hits.map((x) => x.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const hit of hits) expect(hit.ttlMs).toBeGreaterThan(0);
    for (const hit of hits) expect(hit.ttlMs).toBeLessThanOrEqual(60_000);

    await counters.hold(key, 3_600_000);
    expect((await counters.hit(key, 60_000)).ttlMs).toBeGreaterThan(60_000);

    await h().admin(
      `update cluster_counters set expires_at = now() - interval '1 second' where key = $1`,
      [key],
    );
    expect((await counters.hit(key, 60_000)).count).toBe(1);
    await counters.reset(key);
    expect((await counters.hit(key, 60_000)).count).toBe(1);
  });

  it('gives each tick of a timed job to exactly one claimer', async () => {
    const { jobs } = h().store.system.cluster;
    const job = `job-${Math.random()}`;
    const claims = await Promise.all(
      ['a', 'b', 'c', 'd'].map((by) => jobs.claimTick(job, 3_600_000, by)),
    );
    const won = claims.filter((c) => c !== null);
    expect(won).toHaveLength(1);
    expect(won[0]).toBe(Math.floor(Date.now() / 3_600_000));
    expect(await jobs.claimTick(job, 3_600_000, 'e')).toBeNull();
    // The next tick: claimable again, once.
    await h().admin('update cluster_jobs set last_tick = last_tick - 1 where name = $1', [job]);
    expect(await jobs.claimTick(job, 3_600_000, 'f')).toBe(won[0]);
    expect(await jobs.claimTick(job, 3_600_000, 'g')).toBeNull();
  });

  it('keeps the plugin kill switch as it was last set', async () => {
    const { pluginSwitches } = h().store.system.cluster;
    await pluginSwitches.set('@acme/weather', true, 'user:1');
    await pluginSwitches.set('http', true, 'user:1');
    await pluginSwitches.set('http', false, 'token:2');
    const list = await pluginSwitches.list();
    expect(list.map(({ name, disabled, changedBy }) => ({ name, disabled, changedBy }))).toEqual([
      { name: '@acme/weather', disabled: true, changedBy: 'user:1' },
      { name: 'http', disabled: false, changedBy: 'token:2' },
    ]);
    await expect(pluginSwitches.set('', true, 'user:1')).rejects.toThrow();
  });
});

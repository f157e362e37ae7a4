import { createEventStamper, emptyUsage } from '@parley/protocol';
import { expect, it } from 'vitest';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * The dashboard's charts: runs per UTC hour or day, provider and model, with TTFT percentiles
 * computed by the database (percentile_cont grouped by date_trunc), and the funnel's agents
 * created per new login.
 */

describeEachEngine('usage series', (h) => {
  it('buckets runs by UTC hour and day with TTFT p50/p95, failures and tokens', async () => {
    const { store } = h();
    const { workspaceId } = await seedWorkspace(store, 'series');
    const { workspaceId: otherId } = await seedWorkspace(store, 'series-other');
    const agentId = (await store.withWorkspace(workspaceId, (w) => w.agents.create({ name: 'a' })))
      .id;
    const otherAgent = (await store.withWorkspace(otherId, (w) => w.agents.create({ name: 'b' })))
      .id;

    /** A run that ends as told, then moved to `at` (past the API: created_at is the server's). */
    const run = async (
      at: string,
      model: string,
      end: 'finish' | 'error' | 'abort',
      ttftMs?: number,
      ws = workspaceId,
      agent = agentId,
    ) => {
      const row = await store.withWorkspace(ws, (w) =>
        w.runs.create({ agentId: agent, startedBy: 'system' }),
      );
      const stamp = createEventStamper({ runId: row.id });
      const start = [
        stamp.stamp({ type: 'run.start', agentId: agent, startedAt: at }),
        stamp.stamp({ type: 'step.start', stepIndex: 0, provider: 'scripted', model, attempt: 1 }),
      ];
      const terminal =
        end === 'finish'
          ? stamp.stamp({
              type: 'run.finish',
              finishReason: { unified: 'stop' },
              usage: { ...emptyUsage(), outputTokens: 10 },
              timing: { durationMs: 1000, steps: 1, ...(ttftMs === undefined ? {} : { ttftMs }) },
            })
          : end === 'error'
            ? stamp.stamp({
                type: 'run.error',
                error: { code: 'rate_limited', message: 'slow down', retryable: true },
                partial: false,
              })
            : stamp.stamp({ type: 'run.abort', reason: 'cancelled' });
      await store.withWorkspace(ws, (w) => w.runs.appendRunEvents(row.id, [...start, terminal]));
      await h().admin('update runs set created_at = $1 where id = $2', [at, row.id]);
    };

    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    await run(`${day}T09:05:00Z`, 'm1', 'finish', 100);
    await run(`${day}T09:55:00Z`, 'm1', 'finish', 300);
    await run(`${day}T09:30:00Z`, 'm2', 'finish', 50);
    await run(`${day}T10:10:00Z`, 'm1', 'error');
    await run(`${day}T10:20:00Z`, 'm1', 'abort');
    await run(`${day}T10:40:00Z`, 'm1', 'finish', 700);
    // Another workspace's run in the same hour is not counted.
    await run(`${day}T09:10:00Z`, 'm1', 'finish', 5, otherId, otherAgent);

    const since = new Date(`${day}T00:00:00Z`);
    const hours = await store.withWorkspace(workspaceId, (w) =>
      w.runs.series({ since, bucket: 'hour' }),
    );
    expect(
      hours.map((p) => ({ ...p, at: p.at.toISOString() })),
      'oldest first, then provider and model',
    ).toEqual([
      {
        at: `${day}T09:00:00.000Z`,
        provider: 'scripted',
        model: 'm1',
        runs: 2,
        failed: 0,
        cancelled: 0,
        ttftCount: 2,
        ttftP50: 200,
        ttftP95: 290,
        outputTokens: 20,
      },
      {
        at: `${day}T09:00:00.000Z`,
        provider: 'scripted',
        model: 'm2',
        runs: 1,
        failed: 0,
        cancelled: 0,
        ttftCount: 1,
        ttftP50: 50,
        ttftP95: 50,
        outputTokens: 10,
      },
      {
        at: `${day}T10:00:00.000Z`,
        provider: 'scripted',
        model: 'm1',
        runs: 3,
        failed: 1,
        cancelled: 1,
        ttftCount: 1,
        ttftP50: 700,
        ttftP95: 700,
        outputTokens: 10,
      },
    ]);

    const days = await store.withWorkspace(workspaceId, (w) =>
      w.runs.series({ since, bucket: 'day' }),
    );
    expect(days.map((p) => [p.at.toISOString(), p.model, p.runs, p.ttftCount, p.ttftP50])).toEqual([
      [`${day}T00:00:00.000Z`, 'm1', 5, 3, 300],
      [`${day}T00:00:00.000Z`, 'm2', 1, 1, 50],
    ]);
    const later = await store.withWorkspace(workspaceId, (w) =>
      w.runs.series({ since: new Date(`${day}T10:00:00Z`), bucket: 'hour' }),
    );
    expect(later.map((p) => p.runs)).toEqual([3]);
    await expect(
      store.withWorkspace(workspaceId, (w) => w.runs.series({ since, bucket: 'minute' as 'hour' })),
    ).rejects.toMatchObject({ code: 'store.invalid_input' });
  });

  it('counts agents created per new login', async () => {
    const { system } = h().store;
    const since = new Date();
    const user = (label: string) =>
      system.users.create({ email: `${label}-${Date.now()}@example.test`, displayName: label });
    const [maker, idle, old] = [await user('maker'), await user('idle'), await user('old')];
    for (const u of [maker, idle])
      await system.productEvents.record({ name: 'signup', userId: u.id });
    for (const u of [maker, maker, maker, old])
      await system.productEvents.record({ name: 'agent_created', userId: u.id });
    expect(await system.productEvents.activation({ since })).toEqual({
      newUsers: 2,
      agentsCreated: 3,
      usersWithAgent: 1,
      agentsPerNewUser: 1.5,
    });
    expect(await system.productEvents.activation({ since: new Date(Date.now() + 60_000) })).toEqual(
      { newUsers: 0, agentsCreated: 0, usersWithAgent: 0, agentsPerNewUser: null },
    );
  });
});

import { createEventStamper } from '@parley/protocol';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * Run leases (clusters, docs/scaling.md): the instance executing a run holds its lease and
 * renews it; a lapsed lease goes to exactly one other instance; a clean handoff releases it
 * with no owner. Only unfinished runs take part, across workspaces, through the reviewed
 * SECURITY DEFINER functions.
 */

describeEachEngine('run leases', (h, engine) => {
  const workspaces: { workspaceId: string; agentId: string }[] = [];

  beforeAll(async () => {
    for (const name of ['lease-a', 'lease-b']) {
      const { workspaceId } = await seedWorkspace(h().store, name);
      const agent = await h().store.withWorkspace(workspaceId, (w) =>
        w.agents.create({ name: 'leased' }),
      );
      workspaces.push({ workspaceId, agentId: agent.id });
    }
  });

  const newRun = (i: number, owner: string, ttlMs: number) => {
    const { workspaceId, agentId } = workspaces[i]!;
    return h().store.withWorkspace(workspaceId, (w) =>
      w.runs.create({ agentId, startedBy: 'system', lease: { owner, ttlMs } }),
    );
  };
  const lapse = (runIds: string[]) =>
    h().admin(
      `update runs set lease_expires_at = now() - interval '1 second' where id = any($1::uuid[])`,
      [runIds],
    );

  it('a new run holds its lease; renewals extend only the owner’s unfinished runs', async () => {
    const mine = await newRun(0, 'inst-1', 5_000);
    const theirs = await newRun(1, 'inst-2', 5_000);
    expect(mine.owner).toBe('inst-1');
    expect(mine.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const renewed = await h().store.system.runLeases.renew('inst-1', 5_000, [mine.id, theirs.id]);
    expect(renewed).toEqual([mine.id]);
  });

  /** Per run: whether its lease now runs more than 30 s (a renewal of a minute reached it). */
  const extendedPast30s = async (ids: string[]) =>
    Object.fromEntries(
      (
        await h().admin<{ id: string; later: boolean }>(
          `select id, lease_expires_at > now() + interval '30 seconds' as later from runs where id = any($1::uuid[])`,
          [ids],
        )
      ).map((r) => [r.id, r.later]),
    );

  it('a renewal extends only the runs its instance names (a restarted instance never adopts the runs its previous process left)', async () => {
    const executing = await newRun(0, 'inst-restarted', 1_000);
    const leftBehind = await newRun(1, 'inst-restarted', 1_000);
    const renewed = await h().store.system.runLeases.renew('inst-restarted', 60_000, [
      executing.id,
    ]);
    expect(renewed).toEqual([executing.id]);
    expect(await extendedPast30s([executing.id, leftBehind.id])).toEqual({
      [executing.id]: true,
      [leftBehind.id]: false,
    });
    expect(await h().store.system.runLeases.renew('inst-restarted', 5_000, [])).toEqual([]);
  });

  // PostgreSQL only: PGlite has one connection, so no other transaction can hold a row.
  if (engine === 'postgres')
    it('a renewal never waits for a row a write holds: it renews the others and still answers it', async () => {
      const held = await newRun(0, 'inst-busy', 5_000);
      const free = await newRun(1, 'inst-busy', 5_000);
      await h().admin(
        `update runs set lease_expires_at = now() + interval '1 second' where id = any($1::uuid[])`,
        [[held.id, free.id]],
      );
      const lock = await h().pg!.admin.connect();
      try {
        // Another transaction holds the run's row, as a write round reserving its seqs does.
        await lock.query('begin');
        await lock.query('select 1 from runs where id = $1 for update', [held.id]);
        const renewed = await h().store.system.runLeases.renew('inst-busy', 60_000, [
          held.id,
          free.id,
        ]);
        expect(renewed.sort()).toEqual([held.id, free.id].sort());
        await lock.query('rollback');
      } finally {
        lock.release();
      }
      expect(await extendedPast30s([held.id, free.id])).toEqual({
        [held.id]: false,
        [free.id]: true,
      });
    });

  it('an owner writing its run’s log extends the lease; another instance’s write is refused', async () => {
    const run = await newRun(0, 'inst-writer', 1_000);
    const stamper = createEventStamper({ runId: run.id });
    const { workspaceId } = workspaces[0]!;
    const append = (options: { owner: string; leaseMs?: number }) =>
      h().store.withWorkspace(workspaceId, (w) =>
        w.runs.appendRunEvents(
          run.id,
          [stamper.stamp({ type: 'text.start', partId: `p${Math.random()}` })],
          options,
        ),
      );
    const leaseOf = async () =>
      (
        await h().admin<{ left: number }>(
          `select extract(epoch from lease_expires_at - now()) as left from runs where id = $1`,
          [run.id],
        )
      )[0]!.left;
    await append({ owner: 'inst-writer', leaseMs: 60_000 });
    expect(Number(await leaseOf())).toBeGreaterThan(30);
    // A shorter one never shortens it.
    await append({ owner: 'inst-writer', leaseMs: 1_000 });
    expect(Number(await leaseOf())).toBeGreaterThan(30);
    await expect(append({ owner: 'inst-other', leaseMs: 60_000 })).rejects.toMatchObject({
      code: 'store.not_owner',
    });
  });

  it('a lapsed lease is claimed once, across workspaces, and says who held it', async () => {
    const a = await newRun(0, 'dead', 5_000);
    const b = await newRun(1, 'dead', 5_000);
    await lapse([a.id, b.id]);
    const [first, second] = await Promise.all([
      h().store.system.runLeases.claimLapsed('inst-3', 5_000),
      h().store.system.runLeases.claimLapsed('inst-4', 5_000),
    ]);
    const claimed = [...first, ...second].filter((c) => [a.id, b.id].includes(c.runId));
    expect(claimed.map((c) => c.runId).sort()).toEqual([a.id, b.id].sort());
    expect(claimed.every((c) => c.previousOwner === 'dead')).toBe(true);
    expect(new Set(claimed.map((c) => c.workspaceId))).toEqual(
      new Set(workspaces.map((w) => w.workspaceId)),
    );
    // Nothing lapsed is left to claim.
    const again = await h().store.system.runLeases.claimLapsed('inst-5', 5_000);
    expect(again.filter((c) => [a.id, b.id].includes(c.runId))).toEqual([]);
  });

  it('a finished run is never claimed; a released one is, with no previous owner', async () => {
    const done = await newRun(0, 'inst-6', 5_000);
    const { workspaceId } = workspaces[0]!;
    await h().store.withWorkspace(workspaceId, (w) =>
      w.runs.appendRunEvents(done.id, [
        {
          v: 1,
          runId: done.id,
          seq: 1,
          t: 0,
          type: 'run.start',
          agentId: workspaces[0]!.agentId,
          startedAt: new Date().toISOString(),
        },
        { v: 1, runId: done.id, seq: 2, t: 1, type: 'run.abort', reason: 'cancelled' },
      ]),
    );
    await lapse([done.id]);
    const handed = await newRun(1, 'inst-6', 60_000);
    expect(await h().store.system.runLeases.release('inst-6', [handed.id, done.id])).toBe(1);
    // Someone else's release changes nothing.
    expect(await h().store.system.runLeases.release('inst-7', [handed.id])).toBe(0);
    const claimed = await h().store.system.runLeases.claimLapsed('inst-8', 5_000);
    expect(claimed.find((c) => c.runId === done.id)).toBeUndefined();
    expect(claimed.find((c) => c.runId === handed.id)).toMatchObject({ previousOwner: null });
  });

  it('fences the log: only the lease holder (or a writer that names none) extends it', async () => {
    const { workspaceId, agentId } = workspaces[0]!;
    const run = await newRun(0, 'holder', 60_000);
    const event = (seq: number) => ({
      v: 1 as const,
      runId: run.id,
      seq,
      t: seq,
      type: 'run.start' as const,
      agentId,
      startedAt: new Date().toISOString(),
    });
    const append = (seq: number, owner?: string) =>
      h().store.withWorkspace(workspaceId, (w) =>
        w.runs.appendRunEvents(run.id, [event(seq)], owner ? { owner } : {}),
      );
    await expect(append(1, 'holder')).resolves.toMatchObject({ lastSeq: 1 });
    await lapse([run.id]);
    const [claimed] = (await h().store.system.runLeases.claimLapsed('taker', 60_000)).filter(
      (c) => c.runId === run.id,
    );
    expect(claimed).toMatchObject({ previousOwner: 'holder' });
    // The old holder, still alive, can no longer write over the instance that took the run.
    await expect(append(2, 'holder')).rejects.toMatchObject({ code: 'store.not_owner' });
    await expect(
      h().store.withWorkspace(workspaceId, (w) =>
        w.runs.appendRunEventsMany([{ runId: run.id, events: [event(2)], owner: 'holder' }]),
      ),
    ).resolves.toMatchObject([{ ok: false, error: { code: 'store.not_owner' } }]);
    await expect(append(2, 'taker')).resolves.toMatchObject({ lastSeq: 2 });
  });

  it('refuses a malformed owner or lease time', async () => {
    await expect(h().store.system.runLeases.renew('', 5_000, [])).rejects.toThrow();
    await expect(h().store.system.runLeases.renew('x', 5_000, ['not-a-uuid'])).rejects.toThrow();
    await expect(h().store.system.runLeases.claimLapsed('x', 10)).rejects.toThrow();
    await expect(newRun(0, 'x', 5)).rejects.toThrow();
  });
});

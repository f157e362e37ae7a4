import {
  checkConformance,
  isTerminalEvent,
  type ParleyEvent,
  readParleyEvents,
} from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { client } from './support/harness.ts';
import { twoServersForFile } from './support/two-servers.ts';

/*
 * A run streams while its row is being written: a client of another instance may ask for it
 * before it is stored. Here the row cannot be stored (the runs table is locked) while the run
 * streams on the first server; the second learns over the bus that the first executes it, in
 * that workspace, and its client follows the run from the bus at once, then to its one end.
 * (Before: 404 until the row was stored — 0.5–1 s of retries in the cluster benchmark.)
 */

const servers = twoServersForFile('attach');

/** Resolves once `test()` holds, checking as events arrive (at most `ms`). */
async function until(test: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a client of another instance attaching to a run whose row is not stored yet', () => {
  it('follows it from the bus at once, then to its one end', async () => {
    const { first, second, provider, database } = servers();
    const call = client(first.url, first.token);
    const agents = `/v1/workspaces/${first.workspaceId}/agents`;
    const created = await call('POST', agents, {
      definition: {
        name: 'talker',
        instructions: 'You are a test agent.',
        model: { provider: 'openai-compatible', model: 'slow', baseURL: provider.baseURL },
        memory: { enabled: false, autoExtract: false },
      },
      deploy: true,
    });
    expect(created.status).toBe(201);

    // Nothing can insert a conversation until this transaction ends (reads go on): a run with a
    // new one cannot store its row (the conversation's goes first, in the same write round).
    const lock = await database.admin.connect();
    let locked = true;
    try {
      await lock.query('begin');
      await lock.query('lock table conversations in share mode');
      const response = await call('POST', `${agents}/talker/runs`, { input: 'talk' });
      const runId = response.headers.get('x-parley-run-id')!;
      const seen: ParleyEvent[] = [];
      const owned = (async () => {
        for await (const event of readParleyEvents(response.body!)) seen.push(event);
      })();
      await until(() => seen.some((e) => e.type === 'text.delta'));

      const other = client(second.url, second.token);
      const res = await fetch(`${second.url}/v1/runs/${runId}/events`, {
        headers: { authorization: `Bearer ${second.token}`, 'last-event-id': '0' },
      });
      expect(res.status).toBe(200);
      const followed: ParleyEvent[] = [];
      const following = (async () => {
        for await (const event of readParleyEvents(res.body!)) followed.push(event);
      })();
      // Carried by the bus while nothing of the run can be stored.
      await until(() => followed.some((e) => e.type === 'text.delta'));
      expect(followed[0]).toMatchObject({ type: 'run.start', seq: 1 });
      expect((await other('GET', `/v1/runs/${runId}`)).status).toBe(404); // still not stored

      await lock.query('commit');
      locked = false;
      const cancel = await other('POST', `/v1/runs/${runId}/cancel`);
      expect(await cancel.json()).toEqual({ runId, cancelled: true, status: 'cancelled' });
      await Promise.all([owned, following]);
      expect(checkConformance(followed)).toEqual([]);
      expect(followed.filter(isTerminalEvent)).toEqual([
        expect.objectContaining({ type: 'run.abort', reason: 'cancelled' }),
      ]);
      expect(followed).toEqual(seen);
    } finally {
      if (locked) await lock.query('rollback').catch(() => {});
      lock.release();
    }
  }, 60_000);
});

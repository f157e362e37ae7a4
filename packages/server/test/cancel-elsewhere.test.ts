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
 * Two servers on one PostgreSQL database; a run streams on the first, a cancel arrives through
 * the second, which asks the first over the cluster's bus: the run ends there as if cancelled
 * locally (one run.abort, by the canceller, no gap), and a client following it through the
 * second server sees the same end. (Without an answer on the bus, the second server ends the
 * run through the log after a run.gap: see orphan-close.ts.)
 */

const servers = twoServersForFile('cancel');

describe('a run cancelled through another server', () => {
  it('reaches the running server over the bus: one end, the same in its stream, the log and a follower elsewhere', async () => {
    const { first, second, provider } = servers();
    expect(second.token).toBe(first.token);
    const call = client(first.url, first.token);
    const agents = `/v1/workspaces/${first.workspaceId}/agents`;
    const created = await call('POST', agents, {
      definition: {
        name: 'counter',
        instructions: 'You are a test agent.',
        model: { provider: 'openai-compatible', model: 'slow', baseURL: provider.baseURL },
        memory: { enabled: false, autoExtract: false },
      },
      deploy: true,
    });
    expect(created.status).toBe(201);
    const response = await call('POST', `${agents}/counter/runs`, { input: 'count' });
    const runId = response.headers.get('x-parley-run-id')!;
    const seen: ParleyEvent[] = [];
    // A follower of the same run through the second server (live, by the bus's doorbells).
    // The run streams while its row is written: the second server knows it once it is stored.
    const rowStored = async () => {
      while ((await client(second.url, second.token)('GET', `/v1/runs/${runId}`)).status !== 200)
        await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const follow = () =>
      rowStored()
        .then(() =>
          fetch(`${second.url}/v1/runs/${runId}/events`, {
            headers: { authorization: `Bearer ${second.token}` },
          }),
        )
        .then(async (res) => {
          expect(res.status).toBe(200);
          const events: ParleyEvent[] = [];
          for await (const event of readParleyEvents(res.body!)) events.push(event);
          return events;
        });
    let followed: Promise<ParleyEvent[]> | undefined;
    let cancel: Promise<Response> | undefined;
    for await (const event of readParleyEvents(response.body!)) {
      seen.push(event);
      if (event.type === 'text.delta' && event.seq === 10) followed = follow();
      // Cancel once the run is well under way (its row and first events are stored).
      if (event.type === 'text.delta' && event.seq === 30)
        cancel = rowStored().then(() =>
          client(second.url, second.token)('POST', `/v1/runs/${runId}/cancel`),
        );
    }
    const answer = (await (await cancel!).json()) as { cancelled: boolean; status: string };
    expect(answer).toEqual({ runId, cancelled: true, status: 'cancelled' });
    // Cancelling it again, through either server, ends nothing: the answer says so.
    for (const server of [second, first]) {
      const again = await client(server.url, server.token)('POST', `/v1/runs/${runId}/cancel`);
      expect(await again.json()).toEqual({ runId, cancelled: false, status: 'cancelled' });
    }
    expect(checkConformance(seen)).toEqual([]);
    expect(seen.filter(isTerminalEvent)).toEqual([
      expect.objectContaining({ type: 'run.abort', reason: 'cancelled' }),
    ]);
    // The answer so far was kept before the end was stored (they share the run's lane): the
    // conversation read through either server right after the end holds it.
    const start = seen[0]!;
    const conversationId = start.type === 'run.start' ? start.conversationId : '';
    const shown = seen.map((e) => (e.type === 'text.delta' ? e.delta : '')).join('');
    const messages = (await (
      await client(second.url, second.token)(
        'GET',
        `/v1/workspaces/${first.workspaceId}/conversations/${conversationId}/messages`,
      )
    ).json()) as { role: string; content: { kind: string; text?: string }[]; partial: boolean }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]).toMatchObject({
      content: [{ kind: 'text', text: shown }],
      partial: true,
    });

    const log: ParleyEvent[] = [];
    const stored = await fetch(`${second.url}/v1/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${second.token}` },
    });
    for await (const event of readParleyEvents(stored.body!)) log.push(event);
    expect(checkConformance(log)).toEqual([]);
    expect(log.some((e) => e.type === 'run.gap')).toBe(false);
    // Everything the running server showed is what the log holds.
    expect(log).toEqual(seen);
    expect(await followed!).toEqual(log);
  });
});

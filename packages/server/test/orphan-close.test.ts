import { checkConformance, createEventStamper } from '@parley/protocol';
import { openStore, type Store } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAfterLostLog, closeOrphanedRun } from '../src/runs/orphan-close.ts';

/*
 * Closing a run whose server died, on a real store (PGlite): when the crash came before the
 * run's first event was stored, its start is rebuilt from the run's row, and a client that was
 * shown the start sees the same one (its trace included) when it reads the log.
 */
let store: Store;
let workspaceId: string;

beforeAll(async () => {
  store = await openStore({ memory: true, masterKey: Buffer.alloc(32, 7).toString('base64') });
  await store.migrate();
  workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
});
afterAll(async () => {
  await store?.close();
});

describe('closing a run whose server died before its first write', () => {
  it('rebuilds its start from the row, with the trace the shown start carried, then a gap and the end', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { run, log } = await store.withWorkspace(workspaceId, async (ws) => {
      const agent = await ws.agents.create({ name: 'crashed' });
      const conversation = await ws.conversations.create({ agentId: agent.id, title: 'c' });
      const run = await ws.runs.create({
        agentId: agent.id,
        conversationId: conversation.id,
        traceId,
      });
      await closeOrphanedRun(ws, run);
      return { run, log: await ws.runs.listRunEvents(run.id) };
    });
    expect(log.map((e) => e.type)).toEqual(['run.start', 'run.gap', 'run.abort']);
    expect(log[0]).toMatchObject({
      seq: 1,
      agentId: run.agentId,
      conversationId: run.conversationId,
      traceId,
    });
    expect(log.at(-1)).toMatchObject({ type: 'run.abort', reason: 'shutdown' });
    expect(checkConformance(log)).toEqual([]);
  });
});

describe('closing a run whose event log failed while it executed here', () => {
  it('ends the log after what it holds with a gap and the end its clients saw, once', async () => {
    const run = await store.withWorkspace(workspaceId, async (ws) => {
      const agent = await ws.agents.create({ name: 'lost-log' });
      const conversation = await ws.conversations.create({ agentId: agent.id, title: 'c' });
      const run = await ws.runs.create({ agentId: agent.id, conversationId: conversation.id });
      const stamper = createEventStamper({ runId: run.id });
      await ws.runs.appendRunEvents(run.id, [
        stamper.stamp({
          type: 'run.start',
          agentId: agent.id,
          conversationId: conversation.id,
          startedAt: new Date().toISOString(),
        }),
        stamper.stamp({
          type: 'step.start',
          stepIndex: 0,
          provider: 'openai',
          model: 'm',
          attempt: 1,
        }),
        stamper.stamp({ type: 'text.start', partId: 'p1' }),
        stamper.stamp({ type: 'text.delta', partId: 'p1', delta: 'Half an ans' }),
      ]);
      return run;
    });
    expect(await closeAfterLostLog(store, run.id, workspaceId, [0])).toBe(true);
    // Closed already (by this instance or another): nothing more is written.
    expect(await closeAfterLostLog(store, run.id, workspaceId, [0])).toBe(false);
    const { row, log, messages } = await store.withWorkspace(workspaceId, async (ws) => ({
      row: await ws.runs.get(run.id),
      log: await ws.runs.listRunEvents(run.id),
      messages: await ws.messages.list(run.conversationId!),
    }));
    expect(log.map((e) => e.type)).toEqual([
      'run.start',
      'step.start',
      'text.start',
      'text.delta',
      'run.gap',
      'run.abort',
    ]);
    expect(log.at(-1)).toMatchObject({ reason: 'cancelled', by: 'server' });
    expect(checkConformance(log)).toEqual([]);
    expect(row?.status).not.toBe('running');
    expect(messages.at(-1)?.content).toEqual([{ kind: 'text', text: 'Half an ans' }]);
  });
});

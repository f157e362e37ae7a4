import type { ParleyEvent } from '@parley/protocol';
import { openStore, type Store } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContinuation } from '../src/runs/continuation.ts';

/*
 * What an instance reads to continue a run another one stopped executing, on a real store
 * (PGlite): the run's clock goes on past every t the stopped instance could have shown.
 */
describe('reading a run to continue it', () => {
  let store: Store;
  let workspaceId: string;

  beforeAll(async () => {
    store = await openStore({ memory: true, masterKey: Buffer.alloc(32, 5).toString('base64') });
    await store.migrate();
    workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
  });
  afterAll(async () => {
    await store?.close();
  });

  it('numbers what comes next after anything shown, when the run started late on its own clock', async () => {
    const now = Date.now();
    const { runId } = await store.withWorkspace(workspaceId, async (ws) => {
      const agent = await ws.agents.create({
        name: 'continued',
        draft: {
          name: 'continued',
          instructions: 'Answer.',
          model: { provider: 'openai', model: 'gpt-x' },
        },
      });
      const conversation = await ws.conversations.create({ agentId: agent.id, title: 'c' });
      const run = await ws.runs.create({ agentId: agent.id, conversationId: conversation.id });
      await ws.messages.append(conversation.id, [
        { role: 'user', content: [{ kind: 'text', text: 'Go on.' }], runId: run.id },
      ]);
      // The stopped instance made the run's stamper 20 s ago and stamped run.start 8 s later
      // (it loaded the history first): its t is 8 s, its startedAt 12 s ago. It stored up
      // to t = 9 s and may have shown events up to now, t = 20 s.
      const base = { v: 1 as const, runId: run.id };
      const events = [
        {
          ...base,
          seq: 1,
          t: 8_000,
          type: 'run.start',
          agentId: agent.id,
          conversationId: conversation.id,
          startedAt: new Date(now - 12_000).toISOString(),
        },
        {
          ...base,
          seq: 2,
          t: 9_000,
          type: 'step.start',
          stepId: `${run.id}.s1`,
          stepIndex: 0,
          provider: 'openai',
          model: 'm',
          attempt: 1,
        },
      ] as ParleyEvent[];
      await ws.runs.appendRunEvents(run.id, events);
      return { runId: run.id };
    });
    const continuation = await store.withWorkspace(workspaceId, (ws) =>
      readContinuation(ws, runId, false),
    );
    // Counted from startedAt (12 s ago), the next event's t was 12 s: before what was shown.
    expect(continuation?.point.lastT).toBeGreaterThanOrEqual(20_000);
    expect(continuation?.gapUpTo).toBe(2 + 1_000);
  });
});

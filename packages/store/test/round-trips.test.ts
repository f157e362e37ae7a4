import { randomUUID } from 'node:crypto';
import { createEventStamper, type ParleyEventPayload } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store.ts';
import { createHarness, type Harness, seedWorkspace } from './support/engines.ts';
import { createWireCounter, type WireCounter } from './support/wire-counter.ts';

/*
 * The run path's writes, held to a number of round trips to PostgreSQL (counted on the wire
 * by a proxy): each is a wait for the database and a turn of a busy event loop, and a run
 * streamed one at a time makes one event-log write every few chunks.
 */

describe('round trips to PostgreSQL', () => {
  let harness: Harness & { teardown(): Promise<void> };
  let wire: WireCounter;
  let store: Store;
  let workspaceId = '';
  let agentId = '';

  beforeAll(async () => {
    harness = await createHarness('postgres', 'round_trips');
    wire = await createWireCounter(harness.pg!.runtimeUrl);
    store = await openStore({
      url: wire.url,
      masterKey: harness.masterKey,
      onBackgroundError: () => {},
    });
    workspaceId = (await seedWorkspace(store, 'trips')).workspaceId;
    agentId = (await store.withWorkspace(workspaceId, (w) => w.agents.create({ name: 'trips' })))
      .id;
  });
  afterAll(async () => {
    await store?.close();
    await wire?.close();
    await harness?.teardown();
  });

  const newRun = () =>
    store.withWorkspace(workspaceId, (w) => w.runs.create({ agentId, startedBy: 'system' }));
  const payloads = (): ParleyEventPayload[] => [
    { type: 'run.start', agentId, startedAt: new Date().toISOString() },
    { type: 'text.start', partId: 'p1' },
    { type: 'text.delta', partId: 'p1', delta: 'Hello' },
  ];

  it('opens a workspace transaction with its settings in BEGIN, its first statement pipelined behind', async () => {
    const run = await newRun();
    wire.reset();
    expect(await store.withWorkspace(workspaceId, (w) => w.runs.get(run.id))).toMatchObject({
      id: run.id,
    });
    // BEGIN with the role and the workspace, the read pipelined behind it; COMMIT.
    expect(wire.requests()).toBe(3);
    expect(wire.roundTrips()).toBe(2);
    expect(wire.statements()[0]).toMatch(/^begin; select set_config\('role'/);
    // And in two system calls: BEGIN with the read, then COMMIT.
    expect(wire.writes()).toBe(2);
  });

  it('appends to many runs, ending one of them, in one statement', async () => {
    const runs = await Promise.all([newRun(), newRun(), newRun()]);
    const batches = runs.map((run, i) => {
      const stamper = createEventStamper({ runId: run.id });
      const events = payloads().map((p) => stamper.stamp(p));
      if (i === 0)
        events.push(
          stamper.stamp({
            type: 'run.abort',
            reason: 'cancelled',
            by: 'user',
          } as ParleyEventPayload),
        );
      return { runId: run.id, events };
    });
    wire.reset();
    const outcomes = await store.withWorkspace(workspaceId, (w) =>
      w.runs.appendRunEventsMany(batches),
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    // BEGIN and settings with SAVEPOINT pipelined behind, the statement, RELEASE, COMMIT.
    expect(wire.requests()).toBe(5);
    expect(wire.roundTrips()).toBe(4);
    expect(wire.statements().filter((s) => /run_events/.test(s))).toHaveLength(1);
    const ended = await store.withWorkspace(workspaceId, (w) => w.runs.get(runs[0]!.id));
    expect(ended).toMatchObject({ status: 'cancelled', lastSeq: 4 });
    expect(ended?.finishedAt).not.toBeNull();
    const open = await store.withWorkspace(workspaceId, (w) => w.runs.get(runs[1]!.id));
    expect(open).toMatchObject({ status: 'running', lastSeq: 3, finishedAt: null });
  });

  it('writes without savepoints once told nothing follows a failed write', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const events = payloads().map((p) => stamper.stamp(p));
    wire.reset();
    await store.withWorkspace(workspaceId, (w) => {
      w.withoutSavepoints();
      return w.runs.appendRunEvents(run.id, events);
    });
    // BEGIN and settings with the statement pipelined behind, COMMIT: a run's log write one
    // at a time waits for the database twice.
    expect(wire.requests()).toBe(3);
    expect(wire.roundTrips()).toBe(2);
    expect(wire.statements().some((s) => /savepoint/i.test(s))).toBe(false);
    const stored = await store.withWorkspace(workspaceId, (w) => w.runs.listRunEvents(run.id));
    expect(stored).toEqual(events);
  });

  it('starts a burst of runs, new conversations and a continued one, in one statement', async () => {
    const existing = await store.withWorkspace(workspaceId, (w) =>
      w.conversations.create({ agentId }),
    );
    const fresh = [randomUUID(), randomUUID()];
    const runIds = [randomUUID(), randomUUID(), randomUUID()];
    wire.reset();
    const started = await store.withWorkspace(workspaceId, (w) => {
      w.withoutSavepoints();
      return w.runs.startMany([
        {
          conversation: { id: fresh[0], agentId, title: 'one' },
          run: { id: runIds[0], agentId, conversationId: fresh[0], startedBy: 'system' },
        },
        { run: { id: runIds[1], agentId, conversationId: existing.id, startedBy: 'system' } },
        {
          conversation: { id: fresh[1], agentId, userId: 'u-1', metadata: { from: 'test' } },
          run: {
            id: runIds[2],
            agentId,
            conversationId: fresh[1],
            lease: { owner: 'instance-a', ttlMs: 30_000 },
          },
        },
      ]);
    });
    // BEGIN and settings with the statement pipelined behind, COMMIT: a burst's run starts
    // wait for the database twice, whatever their number.
    expect(wire.requests()).toBe(3);
    expect(wire.roundTrips()).toBe(2);
    expect(started).toEqual([
      { id: runIds[0], conversationId: fresh[0] },
      { id: runIds[1], conversationId: existing.id },
      { id: runIds[2], conversationId: fresh[1] },
    ]);
    const read = await store.withWorkspace(workspaceId, async (w) => ({
      runs: await Promise.all(runIds.map((id) => w.runs.get(id!))),
      conversations: await w.conversations.getMany(fresh),
    }));
    expect(read.runs.map((r) => [r?.status, r?.startedBy, r?.owner])).toEqual([
      ['queued', 'system', null],
      ['queued', 'system', null],
      ['queued', null, 'instance-a'],
    ]);
    expect(read.runs[2]!.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 20_000);
    const byId = new Map(read.conversations.map((c) => [c.id, c]));
    expect(byId.get(fresh[0]!)).toMatchObject({ title: 'one', metadata: {}, messageCount: 0 });
    expect(byId.get(fresh[1]!)).toMatchObject({ userId: 'u-1', metadata: { from: 'test' } });
  });

  it("appends messages to several conversations in one statement, after each one's earlier messages", async () => {
    const [a, b] = await store.withWorkspace(workspaceId, (w) =>
      Promise.all([w.conversations.create({ agentId }), w.conversations.create({ agentId })]),
    );
    const say = (text: string) => ({
      role: 'assistant' as const,
      content: [{ kind: 'text' as const, text }],
    });
    await store.withWorkspace(workspaceId, (w) => w.messages.append(a!.id, [say('earlier')]));
    wire.reset();
    const lists = await store.withWorkspace(workspaceId, (w) => {
      w.withoutSavepoints();
      return w.messages.appendMany([
        { conversationId: a!.id, messages: [say('a1'), say('a2')] },
        { conversationId: b!.id, messages: [say('b1')] },
        { conversationId: a!.id, messages: [say('a3')] },
      ]);
    });
    // BEGIN and settings with the statement pipelined behind, COMMIT: a run's final message
    // waits for the database twice, like its end beside it.
    expect(wire.requests()).toBe(3);
    expect(wire.roundTrips()).toBe(2);
    expect(lists.map((list) => list.map((m) => [m.position, m.content]))).toEqual([
      [
        [2, [{ kind: 'text', text: 'a1' }]],
        [3, [{ kind: 'text', text: 'a2' }]],
      ],
      [[1, [{ kind: 'text', text: 'b1' }]]],
      [[4, [{ kind: 'text', text: 'a3' }]]],
    ]);
    expect(lists[0]![0]!.createdAt).toBeInstanceOf(Date);
    const stored = await store.withWorkspace(workspaceId, (w) => w.messages.list(a!.id));
    expect(stored.map((m) => m.content[0])).toEqual(
      ['earlier', 'a1', 'a2', 'a3'].map((text) => ({ kind: 'text', text })),
    );
    expect(stored.map((m) => m.id)).toEqual(
      expect.arrayContaining([lists[0]![0]!.id, lists[2]![0]!.id]),
    );
  });

  it('still refuses a bad workspace id before sending anything', async () => {
    wire.reset();
    await expect(store.withWorkspace('not-a-uuid', async () => 1)).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
    expect(wire.roundTrips()).toBe(0);
  });
});

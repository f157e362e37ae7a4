import type { ParleyEvent } from '@parley/protocol';
import { openStore, type Store } from '@parley/store';
import { createTestDatabase, createWireCounter, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_APPENDS, RUN_STARTS, type RunStart } from '../src/runs/merged-writes.ts';
import {
  conversationLane,
  createWorkspaceBatcher,
  type MergeKind,
  planRound,
  runLanes,
} from '../src/runs/workspace-batcher.ts';

type MessageAppend = Parameters<typeof MESSAGE_APPENDS.together>[1][number];

describe('workspace batcher (group commit of small writes)', () => {
  let store: Store;
  let workspaceId: string;
  let transactions = 0;

  beforeAll(async () => {
    store = await openStore({ memory: true, masterKey: Buffer.alloc(32, 3).toString('base64') });
    await store.migrate();
    workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
    const original = store.withWorkspace.bind(store);
    store.withWorkspace = ((id, fn, options) => {
      transactions++;
      return original(id, fn, options);
    }) as Store['withWorkspace'];
  });
  afterAll(async () => {
    await store?.close();
  });

  it('runs work submitted together in one transaction, and gives each caller its own result or error', async () => {
    const batcher = createWorkspaceBatcher(store);
    transactions = 0;
    // Submitted together (before the round has opened its transaction): one transaction.
    const together = [
      batcher.run(workspaceId, (ws) => ws.agents.create({ name: 'one' })),
      batcher.run(workspaceId, (ws) => ws.agents.create({ name: 'two' })),
      batcher.run(workspaceId, (ws) => ws.agents.create({ name: 'one' })), // taken: fails alone
      batcher.run(workspaceId, (ws) => ws.agents.create({ name: 'three' })),
    ];
    const results = await Promise.allSettled(together);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'store.conflict' });
    expect(transactions).toBe(1);
    const names = (await store.withWorkspace(workspaceId, (ws) => ws.agents.list())).map(
      (a) => a.name,
    );
    expect(names).toEqual(['one', 'three', 'two']);
    await batcher.idle();
  });

  it('takes work submitted while a round runs into the next round, in order', async () => {
    const batcher = createWorkspaceBatcher(store);
    transactions = 0;
    let later: Promise<unknown>[] = [];
    await batcher.run(workspaceId, async (ws) => {
      // This round has taken its jobs: these wait for the next one, together.
      later = [
        batcher.run(workspaceId, (w) => w.agents.create({ name: 'five' })),
        batcher.run(workspaceId, (w) => w.agents.getByName('five')),
      ];
      return ws.agents.create({ name: 'four' });
    });
    const [, found] = await Promise.all(later);
    expect(found).toMatchObject({ name: 'five' });
    expect(transactions).toBe(2);
  });

  it('writes the appends of many runs in one store call, each run getting its own outcome', async () => {
    const batcher = createWorkspaceBatcher(store);
    const agent = await store.withWorkspace(workspaceId, (ws) =>
      ws.agents.create({ name: 'appender' }),
    );
    const runs = await store.withWorkspace(workspaceId, (ws) =>
      Promise.all([1, 2, 3].map(() => ws.runs.create({ agentId: agent.id }))),
    );
    const stamp = (runId: string, seq: number) =>
      ({
        v: 1,
        seq,
        runId,
        t: 0,
        type: 'run.start',
        agentId: agent.id,
        conversationId: runId,
        startedAt: new Date().toISOString(),
      }) as const;
    let manyCalls = 0;
    const original = store.withWorkspace.bind(store);
    store.withWorkspace = ((id, fn, options) =>
      original(
        id,
        (ws) => {
          const many = ws.runs.appendRunEventsMany;
          ws.runs.appendRunEventsMany = (batches) => {
            manyCalls++;
            return many(batches);
          };
          return fn(ws);
        },
        options,
      )) as Store['withWorkspace'];
    try {
      transactions = 0;
      // Four appends of one round (run 0 twice) go to the store as one call.
      const appends = [
        batcher.append(workspaceId, { runId: runs[0]!.id, events: [stamp(runs[0]!.id, 1)] }),
        batcher.append(workspaceId, { runId: runs[1]!.id, events: [stamp(runs[1]!.id, 1)] }),
        batcher.append(workspaceId, { runId: runs[2]!.id, events: [stamp(runs[2]!.id, 5)] }), // gap
        batcher.append(workspaceId, { runId: runs[0]!.id, events: [stamp(runs[0]!.id, 2)] }),
      ];
      const results = await Promise.allSettled(appends);
      expect(
        results.map((r) => (r.status === 'fulfilled' ? r.value.lastSeq : r.reason.code)),
      ).toEqual([1, 1, 'store.seq_conflict', 2]);
      // One store call in a round without savepoints; the refusal rolls the round back to be
      // done again with them (a refusal may follow a statement that wrote): one more
      // transaction and call, still one for the four appends.
      expect(manyCalls).toBe(2);
      expect(transactions).toBe(2);
    } finally {
      store.withWorkspace = original;
      await batcher.idle();
    }
  });

  it('refuses a run’s end after a failed write of the run, in the same round or before', async () => {
    const batcher = createWorkspaceBatcher(store);
    const agent = await store.withWorkspace(workspaceId, (ws) =>
      ws.agents.create({ name: 'ender' }),
    );
    const [a, b, c] = await store.withWorkspace(workspaceId, (ws) =>
      Promise.all([1, 2, 3].map(() => ws.runs.create({ agentId: agent.id }))),
    );
    const end = (runId: string) =>
      [
        {
          v: 1,
          seq: 1,
          runId,
          t: 0,
          type: 'run.abort',
          reason: 'cancelled',
        },
      ] as unknown as ParleyEvent[];
    transactions = 0;
    let earlierFailed = false;
    // One round: run a's write fails before its end; run b's end follows a write that worked;
    // run c's end is refused by what its caller knows of an earlier round.
    const jobs = [
      batcher.run({ workspaceId, lanes: [a!.id] }, () => Promise.reject(new Error('no room'))),
      batcher.run({ workspaceId, lanes: [b!.id] }, (ws) => ws.agents.list()),
      batcher.append(workspaceId, { runId: a!.id, events: end(a!.id) }, () => false),
      batcher.append(workspaceId, { runId: b!.id, events: end(b!.id) }, () => false),
      batcher.append(workspaceId, { runId: c!.id, events: end(c!.id) }, () => earlierFailed),
    ];
    earlierFailed = true;
    const results = await Promise.allSettled(jobs);
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason.name))).toEqual([
      'Error',
      'ok',
      'EndRefused',
      'ok',
      'EndRefused',
    ]);
    expect(transactions).toBe(1);
    const stored = await store.withWorkspace(workspaceId, (ws) =>
      Promise.all([a, b, c].map((run) => ws.runs.get(run!.id))),
    );
    expect(stored.map((run) => run?.lastSeq)).toEqual([0, 1, 0]);
    await batcher.idle();
  });

  it('fails every job of a round when the transaction itself cannot run', async () => {
    const batcher = createWorkspaceBatcher(store);
    const missing = '00000000-0000-4000-8000-000000000000';
    const outcome = await batcher
      .run('not-a-workspace-id', (ws) => ws.agents.list())
      .catch((error: { code?: string }) => error.code);
    expect(outcome).toBe('store.invalid_input');
    // A workspace nobody can see answers like an empty one (row-level security): no error, no rows.
    expect(await batcher.run(missing, (ws) => ws.agents.list())).toEqual([]);
  });
});

describe('a round merges writes of a kind (a burst costs a few statements, not a few per run)', () => {
  let store: Store;
  let workspaceId: string;
  let agentId: string;
  const calls = { startMany: 0, appendMany: 0 };

  beforeAll(async () => {
    store = await openStore({ memory: true, masterKey: Buffer.alloc(32, 4).toString('base64') });
    await store.migrate();
    workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
    agentId = (await store.withWorkspace(workspaceId, (ws) => ws.agents.create({ name: 'm' }))).id;
    const original = store.withWorkspace.bind(store);
    store.withWorkspace = ((id, fn, options) =>
      original(
        id,
        (ws) => {
          const { startMany } = ws.runs;
          const { appendMany } = ws.messages;
          ws.runs.startMany = (items) => {
            calls.startMany++;
            return startMany(items);
          };
          ws.messages.appendMany = (items) => {
            calls.appendMany++;
            return appendMany(items);
          };
          return fn(ws);
        },
        options,
      )) as Store['withWorkspace'];
  });
  afterAll(async () => {
    await store?.close();
  });

  const start = (runId: string, conversationId: string, fresh = true): RunStart => ({
    conversation: { id: conversationId, agentId },
    fresh,
    check: (existing) => {
      if (!existing) throw new Error('no such conversation');
      return false;
    },
    run: { id: runId, agentId, conversationId },
  });

  it('starts 20 runs with one store call; a refused start and a bad row fail alone', async () => {
    const batcher = createWorkspaceBatcher(store);
    calls.startMany = 0;
    const ids = Array.from({ length: 20 }, () => [crypto.randomUUID(), crypto.randomUUID()]);
    const starts = ids.map(([runId, conversationId]) =>
      batcher.merge(
        { workspaceId, lanes: runLanes(runId!, conversationId!) },
        RUN_STARTS,
        start(runId!, conversationId!),
      ),
    );
    const settled = await Promise.allSettled(starts);
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(calls.startMany).toBe(1);

    // Then: one continues a conversation nobody created (refused by its check), one reuses a
    // run id (the merged insert fails, so each is tried alone), the rest start.
    calls.startMany = 0;
    const taken = ids[0]![0]!;
    const next = [
      start(crypto.randomUUID(), crypto.randomUUID(), false),
      start(taken, crypto.randomUUID()),
      start(crypto.randomUUID(), crypto.randomUUID()),
      start(crypto.randomUUID(), ids[1]![1]!, false),
    ];
    const results = await Promise.allSettled(
      next.map((s) =>
        batcher.merge(
          { workspaceId, lanes: runLanes(s.run.id!, s.conversation.id!) },
          RUN_STARTS,
          s,
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('no such conversation');
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'store.conflict' });
    // One merged call in a round without savepoints, which the failure rolls back; the round
    // again with them: the merged call, then each of the three left alone.
    expect(calls.startMany).toBe(5);
    const stored = await store.withWorkspace(workspaceId, (ws) =>
      ws.runs.list({ agentId, limit: 100 }),
    );
    expect(stored).toHaveLength(22);
  });

  it("merges a round's messages into one call, keeping each conversation's order", async () => {
    const batcher = createWorkspaceBatcher(store);
    const conversations = await store.withWorkspace(workspaceId, (ws) =>
      Promise.all([1, 2, 3].map(() => ws.conversations.create({ agentId }))),
    );
    calls.appendMany = 0;
    const say = (i: number, text: string) =>
      batcher.merge<MessageAppend, unknown>(
        { workspaceId, lanes: [conversationLane(conversations[i]!.id)] },
        MESSAGE_APPENDS,
        {
          conversationId: conversations[i]!.id,
          messages: [{ role: 'user', content: [{ kind: 'text', text }] }],
        },
      );
    await Promise.all([say(0, 'a'), say(1, 'b'), say(0, 'c'), say(2, 'd'), say(0, 'e')]);
    expect(calls.appendMany).toBe(1);
    const first = await store.withWorkspace(workspaceId, (ws) =>
      ws.messages.list(conversations[0]!.id),
    );
    expect(first.map((m) => [m.position, m.content[0]])).toEqual([
      [1, { kind: 'text', text: 'a' }],
      [2, { kind: 'text', text: 'c' }],
      [3, { kind: 'text', text: 'e' }],
    ]);
  });

  it('undoes what a refused call wrote before its refusal, in a round without savepoints', async () => {
    const batcher = createWorkspaceBatcher(store);
    const conversation = await store.withWorkspace(workspaceId, (ws) =>
      ws.conversations.create({ agentId }),
    );
    // One merged call: the counters of both conversations are updated, then the store finds
    // the second one missing and refuses the call. Done again with savepoints, each message
    // alone: the first is stored once, at the position its counter says.
    const results = await Promise.allSettled(
      [conversation.id, crypto.randomUUID()].map((conversationId) =>
        batcher.merge<MessageAppend, unknown>(
          { workspaceId, lanes: [conversationLane(conversationId)] },
          MESSAGE_APPENDS,
          { conversationId, messages: [{ role: 'user', content: [{ kind: 'text', text: 'hi' }] }] },
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    const [stored, counted] = await store.withWorkspace(workspaceId, async (ws) => [
      await ws.messages.list(conversation.id),
      await ws.conversations.get(conversation.id),
    ]);
    expect(stored).toHaveLength(1);
    expect(counted).toMatchObject({ messageCount: 1 });
  });
});

describe("planRound (a round's jobs in groups)", () => {
  const kind = (name: string, keepsLaneOrder = false): MergeKind<unknown> => ({
    name,
    keepsLaneOrder,
    together: async () => [],
  });
  const A = kind('a');
  const B = kind('b', true);
  const job = (name: string, k: MergeKind<unknown> | undefined, ...lanes: string[]) => ({
    name,
    k,
    lanes,
  });
  const plan = (jobs: ReturnType<typeof job>[]) =>
    planRound(jobs, (j) => j.k).map((group) => group.map((j) => j.name));

  it("merges a kind across other lanes' work, never past its own lanes' earlier work", () => {
    expect(
      plan([job('a1', A, 'r1'), job('f', undefined, 'r2'), job('a2', A, 'r3'), job('a3', A, 'r2')]),
    ).toEqual([['a1', 'a2'], ['f'], ['a3']]);
  });
  it('keeps a lane twice in one group only for a kind that keeps lane order', () => {
    expect(plan([job('a1', A, 'r1'), job('a2', A, 'r1')])).toEqual([['a1'], ['a2']]);
    expect(plan([job('b1', B, 'r1'), job('b2', B, 'r1', 'c')])).toEqual([['b1', 'b2']]);
    expect(plan([job('b1', B, 'r1'), job('a1', A, 'r1'), job('b2', B, 'r1')])).toEqual([
      ['b1'],
      ['a1'],
      ['b2'],
    ]);
  });
  it('never merges functions', () => {
    expect(plan([job('f1', undefined, ''), job('f2', undefined, 'x')])).toEqual([['f1'], ['f2']]);
  });
});

describe('workspace batcher on PostgreSQL (runs of one workspace write in parallel)', () => {
  let database: TestDatabase;
  let store: Store;
  let workspaceId: string;

  beforeAll(async () => {
    database = await createTestDatabase('batcher', { migrated: true });
    store = await openStore({
      url: database.runtimeUrl,
      migrationUrl: database.adminUrl,
      masterKey: Buffer.alloc(32, 4).toString('base64'),
      onBackgroundError: () => {},
    });
    await store.migrate();
    workspaceId = (await store.system.workspaces.ensureLocalOwner()).workspace.workspaceId;
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const event = (runId: string, seq: number, type: 'run.start' | 'text.start' | 'run.abort') =>
    (type === 'text.start'
      ? { v: 1, seq, runId, t: 0, type, partId: 'p1' }
      : type === 'run.start'
        ? {
            v: 1,
            seq,
            runId,
            t: 0,
            type,
            agentId: runId,
            conversationId: runId,
            startedAt: new Date().toISOString(),
          }
        : { v: 1, seq, runId, t: 0, type, reason: 'cancelled' }) as ParleyEvent;

  /** Resolves once some session of the test database waits for a row lock. */
  const someoneWaitsForALock = async () => {
    for (;;) {
      const { rows } = await database.admin.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      );
      if (rows.length > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it("stores one run's end while another run's write in the same workspace is held up, keeping each run's order", async () => {
    const batcher = createWorkspaceBatcher(store);
    const agent = await store.withWorkspace(workspaceId, (ws) =>
      ws.agents.create({ name: 'parallel' }),
    );
    const [slow, quick] = await store.withWorkspace(workspaceId, (ws) =>
      Promise.all([1, 2].map(() => ws.runs.create({ agentId: agent.id }))),
    );
    // A real transaction holds the slow run's row: its next write waits in the database.
    const holder = await database.admin.connect();
    let slowSettled = false;
    let slowAfter: Promise<unknown> | undefined;
    try {
      await holder.query('begin');
      await holder.query('select 1 from runs where id = $1 for update', [slow!.id]);
      const slowWrite = batcher
        .append(workspaceId, { runId: slow!.id, events: [event(slow!.id, 1, 'run.start')] })
        .finally(() => {
          slowSettled = true;
        });
      await someoneWaitsForALock();
      // The same run's next write keeps its place behind the held one.
      slowAfter = batcher.append(workspaceId, {
        runId: slow!.id,
        events: [event(slow!.id, 2, 'run.abort')],
      });
      // Another run starts and ends meanwhile: neither write waits for the held one.
      await batcher.append(workspaceId, {
        runId: quick!.id,
        events: [event(quick!.id, 1, 'run.start')],
      });
      const ended = await batcher.append(workspaceId, {
        runId: quick!.id,
        events: [event(quick!.id, 2, 'run.abort')],
      });
      expect(ended).toMatchObject({ lastSeq: 2, closed: true });
      expect(slowSettled).toBe(false);
      await holder.query('commit');
      expect(await slowWrite).toMatchObject({ lastSeq: 1 });
      expect(await slowAfter).toMatchObject({ lastSeq: 2, closed: true });
    } finally {
      await holder.query('rollback').catch(() => {});
      holder.release();
      await slowAfter?.catch(() => {});
      await batcher.idle();
    }
    const statuses = await store.withWorkspace(workspaceId, (ws) =>
      Promise.all([slow!.id, quick!.id].map((id) => ws.runs.get(id))),
    );
    expect(statuses.map((run) => run?.status)).toEqual(['cancelled', 'cancelled']);
  });

  it("keeps lane-less work in order, and a run's work after its own earlier work", async () => {
    const batcher = createWorkspaceBatcher(store);
    const lanes = ['run-x', 'conversation:x'];
    const order: string[] = [];
    await Promise.all([
      batcher.run({ workspaceId, lanes }, async (ws) => {
        await ws.agents.list();
        order.push('x1');
      }),
      batcher.run(workspaceId, async () => {
        order.push('plain1');
      }),
      batcher.run({ workspaceId, lanes: ['conversation:x'] }, async () => {
        order.push('x2');
      }),
      batcher.run(workspaceId, async () => {
        order.push('plain2');
      }),
    ]);
    expect(order.indexOf('x1')).toBeLessThan(order.indexOf('x2'));
    expect(order.indexOf('plain1')).toBeLessThan(order.indexOf('plain2'));
    await batcher.idle();
  });

  it("starts a round for a run's end at once, while other work waits for the round in flight", async () => {
    // A stall threshold no test outwaits: only a run's end may start beside a round in flight.
    const batcher = createWorkspaceBatcher(store, { stallMs: 600_000 });
    const agent = await store.withWorkspace(workspaceId, (ws) =>
      ws.agents.create({ name: 'urgent' }),
    );
    const [ending, other] = await Promise.all(
      [1, 2].map(() =>
        store.withWorkspace(workspaceId, (ws) =>
          ws.runs.create({ agentId: agent.id, startedBy: 'system' }),
        ),
      ),
    );
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let opened!: () => void;
    const roundOpen = new Promise<void>((r) => {
      opened = r;
    });
    const inFlight = batcher.run({ workspaceId, lanes: ['slow'] }, async (ws) => {
      await ws.agents.list();
      opened();
      await gate;
    });
    try {
      await roundOpen;
      // Another run's events wait for the round in flight (group commit)…
      let otherStored = false;
      const otherWrite = batcher
        .append(workspaceId, { runId: other!.id, events: [event(other!.id, 1, 'run.start')] })
        .then(() => {
          otherStored = true;
        });
      await store.withWorkspace(workspaceId, (ws) => ws.agents.list()); // a few turns pass
      expect(otherStored).toBe(false);
      // …a run's end does not: it starts a round of its own (taking what is ready with it).
      const end = await batcher.append(
        workspaceId,
        { runId: ending!.id, events: [event(ending!.id, 1, 'run.abort')] },
        () => false,
      );
      expect(end).toMatchObject({ closed: true });
      await otherWrite;
    } finally {
      release();
    }
    await inFlight;
    await batcher.idle();
  });

  it('writes merged work without savepoints, and does a round again with them when a write in it fails', async () => {
    const wire = await createWireCounter(database.runtimeUrl);
    const counted = await openStore({
      url: wire.url,
      masterKey: Buffer.alloc(32, 4).toString('base64'),
      onBackgroundError: () => {},
    });
    try {
      const batcher = createWorkspaceBatcher(counted);
      const agent = await counted.withWorkspace(workspaceId, (ws) =>
        ws.agents.create({ name: 'counted' }),
      );
      const [one, two] = await Promise.all(
        [1, 2].map(() =>
          counted.withWorkspace(workspaceId, (ws) =>
            ws.runs.create({ agentId: agent.id, startedBy: 'system' }),
          ),
        ),
      );
      wire.reset();
      await batcher.append(workspaceId, {
        runId: one!.id,
        events: [event(one!.id, 1, 'run.start')],
      });
      // BEGIN with the workspace settings and the append pipelined behind it, COMMIT.
      expect(wire.requests()).toBe(3);
      expect(wire.roundTrips()).toBe(2);

      // A run's final message and its log append in one round: both kinds' statements go at
      // once (one at a time, the append waited for the message's two statements).
      const conversation = await counted.withWorkspace(workspaceId, (ws) =>
        ws.conversations.create({ agentId: agent.id }),
      );
      wire.reset();
      await Promise.all([
        batcher.merge<MessageAppend, unknown>(
          { workspaceId, lanes: runLanes(one!.id, conversation.id) },
          MESSAGE_APPENDS,
          {
            conversationId: conversation.id,
            messages: [{ role: 'assistant', content: [{ kind: 'text', text: 'hi' }] }],
          },
        ),
        batcher.append(workspaceId, {
          runId: one!.id,
          events: [event(one!.id, 2, 'text.start')],
        }),
      ]);
      // BEGIN with the message's one statement and the append pipelined behind it, COMMIT:
      // 2 waits. One group at a time it was 4; with the message in two statements, 3.
      expect(wire.requests()).toBe(4);
      expect(wire.roundTrips()).toBe(2);

      // A run's start and its first message in one round (how every run begins): the message
      // refers to the run's row, so it waits for the start's statements instead of racing them
      // (it lost, and the round was done again with savepoints: a foreign key error per burst
      // round). No rollback, no savepoint: one round.
      wire.reset();
      const started = crypto.randomUUID();
      const chat = crypto.randomUUID();
      await Promise.all([
        batcher.merge({ workspaceId, lanes: runLanes(started, chat) }, RUN_STARTS, {
          conversation: { id: chat, agentId: agent.id },
          fresh: true,
          check: () => true,
          run: { id: started, agentId: agent.id, conversationId: chat },
        } satisfies RunStart),
        batcher.merge<MessageAppend, unknown>(
          { workspaceId, lanes: runLanes(started, chat) },
          MESSAGE_APPENDS,
          {
            conversationId: chat,
            messages: [
              { role: 'user', content: [{ kind: 'text', text: 'hello' }], runId: started },
            ],
          },
        ),
      ]);
      const begun = wire.statements().map((s) => s.split(' ')[0]!.toLowerCase());
      expect(begun).not.toContain('rollback');
      expect(begun).not.toContain('savepoint');
      expect(begun.filter((s) => s === 'begin;')).toHaveLength(1);

      // Two runs' ends and a run start reusing a run's id (the database refuses it), in one
      // round: rolled back, then done again with savepoints, each job getting its own outcome.
      wire.reset();
      const reused = crypto.randomUUID();
      const results = await Promise.allSettled([
        batcher.append(workspaceId, { runId: one!.id, events: [event(one!.id, 3, 'run.abort')] }),
        batcher.merge({ workspaceId, lanes: runLanes(two!.id, reused) }, RUN_STARTS, {
          conversation: { id: reused, agentId: agent.id },
          fresh: true,
          check: () => true,
          run: { id: two!.id, agentId: agent.id, conversationId: reused },
        } satisfies RunStart),
        batcher.append(workspaceId, { runId: two!.id, events: [event(two!.id, 1, 'run.abort')] }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
        code: 'store.conflict',
      });
      const sent = wire.statements().map((s) => s.split(' ')[0]!.toLowerCase());
      expect(sent.indexOf('rollback')).toBeGreaterThan(0);
      expect(sent.indexOf('savepoint')).toBeGreaterThan(sent.indexOf('rollback'));
      const ended = await counted.withWorkspace(workspaceId, async (ws) => [
        await ws.runs.get(one!.id),
        await ws.runs.get(two!.id),
      ]);
      expect(ended.map((r) => r?.status)).toEqual(['cancelled', 'cancelled']);
      await batcher.idle();
    } finally {
      await counted.close();
      await wire.close();
    }
  });
});

import {
  createEventStamper,
  encodeEvent,
  eventJson,
  type ParleyEvent,
  type ParleyEventPayload,
} from '@parley/protocol';
import { beforeAll, expect, it, vi } from 'vitest';
import type { Store } from '../src/store.ts';
import type { WorkspaceScope } from '../src/workspace-scope.ts';
import { describeEachEngine, seedWorkspace } from './support/engines.ts';

/*
 * The run's event log (Parley Stream v1) is what resume replays: gap-free seq per run with any
 * number of writers, batches written whole or not at all, closed after the terminal event.
 */

const usage = {
  inputTokens: 12,
  cachedInputTokens: 2,
  cacheWriteTokens: 0,
  outputTokens: 7,
  costUsd: 0.0004,
  costSource: 'pricebook' as const,
};

function script(agentId: string): ParleyEventPayload[] {
  return [
    { type: 'run.start', agentId, startedAt: new Date().toISOString() },
    { type: 'step.start', stepIndex: 0, provider: 'openai', model: 'gpt-4.1-mini', attempt: 1 },
    { type: 'text.start', partId: 'p1' },
    { type: 'text.delta', partId: 'p1', delta: 'Héllo 👋 "quoted" \\ back' },
    { type: 'text.delta', partId: 'p1', delta: ' world' },
    { type: 'text.end', partId: 'p1' },
    {
      type: 'step.finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage,
      timing: { durationMs: 812.5, ttftMs: 143.25, retries: 0 },
    },
  ];
}

function omit<T extends object>(value: T, key: string): Partial<T> {
  const { [key]: _dropped, ...rest } = value as Record<string, unknown>;
  return rest as Partial<T>;
}

describeEachEngine('run event log', (h, engine) => {
  let workspaceId = '';
  let agentId = '';

  beforeAll(async () => {
    workspaceId = (await seedWorkspace(h().store, 'runs')).workspaceId;
    agentId = (
      await h().store.withWorkspace(workspaceId, (w) => w.agents.create({ name: 'runner' }))
    ).id;
  });

  const newRun = (store: Store = h().store) =>
    store.withWorkspace(workspaceId, (w) => w.runs.create({ agentId, startedBy: 'system' }));
  const append = (
    runId: string,
    events: ParleyEvent[],
    assignSeq = false,
    store: Store = h().store,
  ) =>
    store.withWorkspace(workspaceId, (w) => w.runs.appendRunEvents(runId, events, { assignSeq }));
  const list = (runId: string, options: { afterSeq?: number; limit?: number } = {}) =>
    h().store.withWorkspace(workspaceId, (w) => w.runs.listRunEvents(runId, options));

  it('stores stamped batches exactly and replays them after any seq', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const events = script(agentId).map((p) => stamper.stamp(p));
    expect(await append(run.id, events.slice(0, 3))).toMatchObject({
      firstSeq: 1,
      lastSeq: 3,
      closed: false,
    });
    expect(await append(run.id, events.slice(3))).toMatchObject({ firstSeq: 4, lastSeq: 7 });
    expect(await list(run.id)).toEqual(events);
    expect(await list(run.id, { afterSeq: 5 })).toEqual(events.slice(5));
    expect(await list(run.id, { afterSeq: 2, limit: 2 })).toEqual(events.slice(2, 4));
    expect(await list(run.id, { afterSeq: 7 })).toEqual([]);
    const stored = await h().store.withWorkspace(workspaceId, (w) => w.runs.get(run.id));
    expect(stored).toMatchObject({
      status: 'running',
      provider: 'openai',
      model: 'gpt-4.1-mini',
      lastSeq: 7,
      finishedAt: null,
    });
  });

  it('appends to many runs in one call, each batch standing or failing on its own', async () => {
    // A workspace of its own: this test leaves a cancelled run behind.
    const own = (await seedWorkspace(h().store, 'many')).workspaceId;
    const agent = await h().store.withWorkspace(own, (w) => w.agents.create({ name: 'many' }));
    const inOwn = <T>(fn: (w: WorkspaceScope) => Promise<T>) => h().store.withWorkspace(own, fn);
    const [a, b, closed, conflicted] = await Promise.all(
      [1, 2, 3, 4].map(() =>
        inOwn((w) => w.runs.create({ agentId: agent.id, startedBy: 'system' })),
      ),
    );
    const stampers = new Map(
      [a, b, closed, conflicted].map((r) => [r!.id, createEventStamper({ runId: r!.id })]),
    );
    const stamp = (runId: string, payloads: ParleyEventPayload[]) =>
      payloads.map((p) => stampers.get(runId)!.stamp(p));
    const aEvents = stamp(a!.id, script(agent.id));
    const bEvents = stamp(b!.id, script(agent.id).slice(0, 2));
    await inOwn((w) =>
      w.runs.appendRunEvents(closed!.id, [
        ...stamp(closed!.id, script(agent.id).slice(0, 1)),
        ...stamp(closed!.id, [{ type: 'run.abort', reason: 'cancelled', by: 'user' }]),
      ]),
    );
    const late = stamp(closed!.id, [{ type: 'text.start', partId: 'x' }]);
    const skipped = stamp(conflicted!.id, script(agent.id).slice(0, 2)).slice(1); // starts at seq 2
    const ghost = '00000000-0000-4000-8000-000000000000';
    const outcomes = await inOwn((w) =>
      w.runs.appendRunEventsMany([
        { runId: a!.id, events: aEvents.slice(0, 4) },
        { runId: b!.id, events: bEvents },
        { runId: closed!.id, events: late },
        { runId: conflicted!.id, events: skipped },
        { runId: ghost, events: [{ ...aEvents[0]!, runId: ghost }] },
        { runId: b!.id, events: [{ ...bEvents[0]!, runId: a!.id }] },
        // The same run again in the call: stored after its first batch.
        { runId: a!.id, events: aEvents.slice(4) },
      ]),
    );
    expect(
      outcomes.map((o) => (o.ok ? `ok ${o.result.firstSeq}-${o.result.lastSeq}` : o.error.code)),
    ).toEqual([
      'ok 1-4',
      'ok 1-2',
      'store.run_closed',
      'store.seq_conflict',
      'store.not_found',
      'store.invalid_input',
      'ok 5-7',
    ]);
    expect(await inOwn((w) => w.runs.listRunEvents(a!.id))).toEqual(aEvents);
    expect(await inOwn((w) => w.runs.listRunEvents(b!.id))).toEqual(bEvents);
    expect(await inOwn((w) => w.runs.listRunEvents(conflicted!.id))).toEqual([]);
    const [runA, runB] = await inOwn((w) => Promise.all([w.runs.get(a!.id), w.runs.get(b!.id)]));
    expect(runA).toMatchObject({ lastSeq: 7, status: 'running', model: 'gpt-4.1-mini' });
    expect(runB).toMatchObject({ lastSeq: 2, status: 'running', provider: 'openai' });
  });

  it('stores a declared gap: a run.gap past the log, from where it ends, then the end', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const events = script(agentId).map((p) => stamper.stamp(p));
    await append(run.id, events.slice(0, 4));
    const base = { v: 1 as const, runId: run.id, t: 1_000 };
    const gap = { ...base, seq: 105, type: 'run.gap', afterSeq: 4 } as ParleyEvent;
    const end = { ...base, seq: 106, type: 'run.abort', reason: 'shutdown' } as ParleyEvent;
    const appendGap = (batch: ParleyEvent[], gapAfter: number) =>
      h().store.withWorkspace(workspaceId, (w) =>
        w.runs.appendRunEvents(run.id, batch, { gapAfter }),
      );
    // Not from where the log ends, not a gap, a gap that numbers into the log: refused.
    await expect(appendGap([{ ...gap, afterSeq: 3 } as ParleyEvent, end], 3)).rejects.toMatchObject(
      { code: 'store.seq_conflict' },
    );
    await expect(appendGap([end], 4)).rejects.toMatchObject({ code: 'store.invalid_input' });
    await expect(appendGap([{ ...gap, seq: 4 }, end], 4)).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
    // Without a declared gap, a jump is a conflict as before.
    await expect(append(run.id, [gap, end])).rejects.toMatchObject({
      code: 'store.seq_conflict',
    });
    expect(await appendGap([gap, end], 4)).toMatchObject({
      firstSeq: 105,
      lastSeq: 106,
      closed: true,
    });
    expect((await list(run.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 105, 106]);
    expect(await list(run.id, { afterSeq: 50 })).toEqual([gap, end]);
    const stored = await h().store.withWorkspace(workspaceId, (w) => w.runs.get(run.id));
    expect(stored).toMatchObject({ lastSeq: 106, status: 'cancelled' });
  });

  it('refuses a batch that does not continue the log, and writes nothing of it', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const events = script(agentId).map((p) => stamper.stamp(p));
    await append(run.id, events.slice(0, 2));
    for (const wrong of [events.slice(0, 2), events.slice(3, 5)]) {
      await expect(append(run.id, wrong)).rejects.toMatchObject({
        code: 'store.seq_conflict',
        details: { expected: 3, received: wrong[0]!.seq },
      });
    }
    await expect(append(run.id, [events[2]!, events[4]!])).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
    expect((await list(run.id)).map((e) => e.seq)).toEqual([1, 2]);
    // The caller's own transaction survives the typed error.
    const after = await h().store.withWorkspace(workspaceId, async (w) => {
      await w.runs.appendRunEvents(run.id, events.slice(0, 1)).catch(() => undefined);
      return w.runs.appendRunEvents(run.id, events.slice(2, 4));
    });
    expect(after.lastSeq).toBe(4);
  });

  it('validates every event: shape, run id, size, terminal last', async () => {
    const run = await newRun();
    const start = {
      v: 1,
      seq: 1,
      runId: run.id,
      t: 0,
      type: 'run.start',
      agentId,
      startedAt: new Date().toISOString(),
    } as const;
    const cases: [unknown[], string][] = [
      [[], ''],
      [[{ ...start, type: 'no.such.type' }], '0.type'],
      [[{ ...start, seq: 0 }], '0.seq'],
      [[{ ...start, runId: 'another-run' }], '0'],
      [
        [
          { ...start },
          {
            v: 1,
            seq: 2,
            runId: run.id,
            t: 1,
            type: 'text.delta',
            partId: 'p',
            delta: 'x'.repeat(300_000),
          },
        ],
        '1',
      ],
      [
        [
          { v: 1, seq: 1, runId: run.id, t: 1, type: 'run.abort', reason: 'cancelled' },
          { ...start, seq: 2 },
        ],
        '0',
      ],
    ];
    for (const [events, path] of cases) {
      const error = await append(run.id, events as ParleyEvent[]).catch((e: unknown) => e);
      expect(error, path).toMatchObject({ code: 'store.invalid_input' });
      if (path)
        expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(path);
    }
    await expect(append('not-a-uuid', [start])).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
    expect(await list(run.id)).toEqual([]);
  });

  it("trusts the stamper's events (stored with their SSE frame's bytes, one serialisation) and parses every other", async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const [start, step] = script(agentId)
      .slice(0, 2)
      // A field the schema does not know shows which events were parsed (it strips it).
      .map((p) => stamper.stamp({ ...p, note: 'as shown live' } as unknown as ParleyEventPayload));
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const frame = encodeEvent(start!); // what the run's subscribers are sent
      await append(run.id, [start!]);
      // Serialised once: the frame's JSON is what the log stores (no parsed copy stringified again).
      const ofStart = stringify.mock.calls.filter(
        ([value]) => (value as ParleyEvent | undefined)?.runId === run.id,
      );
      expect(ofStart).toHaveLength(1);
      expect(frame).toContain(eventJson(start!));
    } finally {
      stringify.mockRestore();
    }
    // The same event copied is no longer the stamper's: parsed like an import.
    await append(run.id, [{ ...step! }]);
    const stored = await list(run.id);
    expect(stored[0]).toEqual(start);
    expect(stored[1]).not.toHaveProperty('note');
    expect(stored[1]).toEqual(omit(step!, 'note'));
    // A copy that breaks the schema is refused, the stamper's mark does not travel with it.
    const broken = stamper.stamp({ type: 'text.start', partId: 'p1' });
    await expect(
      append(run.id, [{ ...broken, partId: 42 } as unknown as ParleyEvent]),
    ).rejects.toMatchObject({ code: 'store.invalid_input' });
  });

  it('closes the log with the terminal event and projects the outcome onto the run', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const events = [
      ...script(agentId),
      {
        type: 'run.finish',
        finishReason: { unified: 'stop' },
        usage,
        timing: { durationMs: 900, ttftMs: 143.25, steps: 1 },
      },
    ].map((p) => stamper.stamp(p as ParleyEventPayload));
    expect(await append(run.id, events)).toMatchObject({ lastSeq: 8, closed: true });
    const finished = await h().store.withWorkspace(workspaceId, (w) => w.runs.get(run.id));
    expect(finished).toMatchObject({
      status: 'succeeded',
      finishReason: 'stop',
      ttftMs: 143.25,
      durationMs: 900,
      inputTokens: 12,
      outputTokens: 7,
      costUsd: 0.0004,
      costSource: 'pricebook',
      finishedAt: expect.any(Date),
    });
    const late = stamper.stamp({ type: 'run.abort', reason: 'cancelled' });
    await expect(append(run.id, [late])).rejects.toMatchObject({ code: 'store.run_closed' });
    await expect(append(run.id, [late], true)).rejects.toMatchObject({ code: 'store.run_closed' });
  });

  it('records failures and cancellations on the run', async () => {
    const failed = await newRun();
    await append(failed.id, [
      {
        v: 1,
        seq: 1,
        runId: failed.id,
        t: 0,
        type: 'run.error',
        partial: false,
        error: { code: 'rate_limited', message: 'slow down', retryable: true },
      },
    ]);
    const cancelled = await newRun();
    await append(cancelled.id, [
      {
        v: 1,
        seq: 1,
        runId: cancelled.id,
        t: 0,
        type: 'run.abort',
        reason: 'cancelled',
        by: 'user:1',
      },
    ]);
    const runs = await h().store.withWorkspace(workspaceId, async (w) => [
      await w.runs.get(failed.id),
      await w.runs.get(cancelled.id),
    ]);
    expect(runs[0]).toMatchObject({
      status: 'failed',
      finishReason: 'error',
      error: { code: 'rate_limited' },
    });
    expect(runs[1]).toMatchObject({ status: 'cancelled', finishReason: 'abort:cancelled' });
    // Of this test's two runs (others in the workspace may be cancelled too), the cancelled one.
    const listed = await h().store.withWorkspace(workspaceId, (w) =>
      w.runs.list({ status: 'cancelled' }),
    );
    expect(listed.filter((r) => r.id === failed.id || r.id === cancelled.id)).toEqual([
      expect.objectContaining({ id: cancelled.id }),
    ]);
  });

  it('numbers events itself for a second writer (assignSeq)', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    await append(run.id, [
      stamper.stamp({ type: 'run.start', agentId, startedAt: new Date().toISOString() }),
    ]);
    const result = await append(
      run.id,
      [
        {
          v: 1,
          seq: 99,
          runId: run.id,
          t: 5,
          type: 'run.abort',
          reason: 'cancelled',
          by: 'server',
        },
      ],
      true,
    );
    expect(result).toMatchObject({ firstSeq: 2, lastSeq: 2, closed: true });
    expect(result.events[0]!.seq).toBe(2);
    expect((await list(run.id)).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('writes a large batch in one call', async () => {
    const run = await newRun();
    const stamper = createEventStamper({ runId: run.id });
    const events = [
      stamper.stamp({ type: 'run.start', agentId, startedAt: new Date().toISOString() }),
      stamper.stamp({
        type: 'step.start',
        stepIndex: 0,
        provider: 'scripted',
        model: 'demo',
        attempt: 1,
      }),
      stamper.stamp({ type: 'text.start', partId: 'p' }),
      ...Array.from({ length: 2_500 }, (_, i) =>
        stamper.stamp({ type: 'text.delta', partId: 'p', delta: `${i} ` }),
      ),
    ];
    expect(await append(run.id, events)).toMatchObject({ lastSeq: 2_503 });
    const replay = await list(run.id, { afterSeq: 0, limit: 10_000 });
    expect(replay.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it(`keeps seq gap-free with concurrent writers${engine === 'postgres' ? ' on two separate pools' : ''}`, async () => {
    const run = await newRun();
    // PostgreSQL: a second store with its own pool, as another server instance would have.
    const second = engine === 'postgres' ? await h().reopen() : h().store;
    const writers = 6;
    const batches = 8;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const store = writer % 2 === 0 ? h().store : second;
        for (let b = 0; b < batches; b++) {
          const size = 1 + ((writer + b) % 4);
          const events = Array.from({ length: size }, (_, i) => ({
            v: 1 as const,
            seq: 1,
            runId: run.id,
            t: b,
            type: 'text.delta' as const,
            partId: `w${writer}`,
            delta: `${b}.${i}`,
          }));
          await append(run.id, events, true, store);
        }
      }),
    );
    const log = await list(run.id, { limit: 10_000 });
    const total = Array.from({ length: writers }, (_, w) =>
      Array.from({ length: batches }, (_, b) => 1 + ((w + b) % 4)),
    )
      .flat()
      .reduce((x, y) => x + y, 0);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Each writer's events keep their own order, and each batch stays contiguous.
    for (let w = 0; w < writers; w++) {
      const mine = log.filter((e) => e.type === 'text.delta' && e.partId === `w${w}`);
      expect(mine.map((e) => (e as { delta: string }).delta)).toEqual(
        Array.from({ length: batches }, (_, b) =>
          Array.from({ length: 1 + ((w + b) % 4) }, (_, i) => `${b}.${i}`),
        ).flat(),
      );
    }
    const [row] = await h().admin<{ last_seq: number }>('select last_seq from runs where id = $1', [
      run.id,
    ]);
    expect(row?.last_seq).toBe(total);
  });

  it('lets exactly one of two writers claim the same seqs', async () => {
    const run = await newRun();
    const second = engine === 'postgres' ? await h().reopen() : h().store;
    const event = (text: string): ParleyEvent => ({
      v: 1,
      seq: 1,
      runId: run.id,
      t: 0,
      type: 'text.delta',
      partId: 'p',
      delta: text,
    });
    const results = await Promise.allSettled([
      append(run.id, [event('first')]),
      append(run.id, [event('second')], false, second),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'store.seq_conflict' });
    expect(await list(run.id)).toHaveLength(1);
  });

  it('summarises runs: counts by status, tokens, cost and TTFT percentiles per model', async () => {
    const since = new Date(Date.now() - 60_000);
    // A workspace of its own: the other tests' runs must not count.
    const own = (await seedWorkspace(h().store, `summary-${engine}`)).workspaceId;
    const ownAgent = (
      await h().store.withWorkspace(own, (w) => w.agents.create({ name: 'summarised' }))
    ).id;
    const newRun = () =>
      h().store.withWorkspace(own, (w) =>
        w.runs.create({ agentId: ownAgent, startedBy: 'system' }),
      );
    const append = (runId: string, events: ParleyEvent[]) =>
      h().store.withWorkspace(own, (w) => w.runs.appendRunEvents(runId, events));
    const finish = async (ttftMs: number, model: string) => {
      const run = await newRun();
      const stamper = createEventStamper({ runId: run.id });
      await append(run.id, [
        stamper.stamp({ type: 'run.start', agentId, startedAt: new Date().toISOString() }),
        stamper.stamp({
          type: 'step.start',
          stepIndex: 0,
          provider: 'scripted',
          model,
          attempt: 1,
        }),
        stamper.stamp({
          type: 'run.finish',
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          timing: { durationMs: 900, ttftMs, steps: 1 },
        }),
      ]);
    };
    for (const ttft of [100, 200, 300, 400]) await finish(ttft, 'summary-a');
    await finish(50, 'summary-b');
    const failed = await newRun();
    const stamper = createEventStamper({ runId: failed.id });
    await append(failed.id, [
      stamper.stamp({ type: 'run.start', agentId, startedAt: new Date().toISOString() }),
      stamper.stamp({
        type: 'run.error',
        error: { code: 'overloaded', message: 'busy', retryable: true },
        partial: false,
      }),
    ]);
    const summary = await h().store.withWorkspace(own, (w) => w.runs.summary({ since }));
    expect(summary.byStatus).toEqual({ succeeded: 5, failed: 1 });
    expect(summary.total).toBe(6);
    expect(summary.tokens).toEqual({
      input: 5 * usage.inputTokens,
      output: 5 * usage.outputTokens,
      cachedInput: 5 * usage.cachedInputTokens,
    });
    expect(summary.costUsd).toBeCloseTo(5 * usage.costUsd, 6);
    const a = summary.ttft.find((r) => r.model === 'summary-a');
    expect(a).toMatchObject({ provider: 'scripted', count: 4, p50: 250 });
    expect(a?.p95).toBeCloseTo(385, 6);
    expect(summary.ttft.find((r) => r.model === 'summary-b')).toMatchObject({ count: 1, p50: 50 });
    const later = await h().store.withWorkspace(own, (w) =>
      w.runs.summary({ since: new Date(Date.now() + 60_000) }),
    );
    expect(later).toMatchObject({ total: 0, ttft: [], costUsd: 0 });
  });

  it('keeps an agent draft apart from its deployed versions', async () => {
    const agent = await h().store.withWorkspace(workspaceId, (w) =>
      w.agents.create({ name: `drafty-${engine}`, draft: { name: 'drafty', instructions: 'v0' } }),
    );
    expect(agent).toMatchObject({ currentVersion: null, draft: { instructions: 'v0' } });
    expect(agent.draftUpdatedAt).toBeInstanceOf(Date);
    const saved = await h().store.withWorkspace(workspaceId, (w) =>
      w.agents.saveDraft(agent.id, { name: 'drafty', instructions: 'v1' }),
    );
    expect(saved.draft).toEqual({ name: 'drafty', instructions: 'v1' });
    const cleared = await h().store.withWorkspace(workspaceId, (w) =>
      w.agents.saveDraft(agent.id, null),
    );
    expect(cleared).toMatchObject({ draft: null, draftUpdatedAt: null });
    await expect(
      h().store.withWorkspace(workspaceId, (w) =>
        w.agents.saveDraft(agent.id, 'not an object' as unknown as Record<string, unknown>),
      ),
    ).rejects.toMatchObject({ code: 'store.invalid_input' });
  });
});

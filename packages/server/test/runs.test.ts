import {
  checkConformance,
  type ParleyEvent,
  readParleyEvents,
  reduceEvents,
  textOf,
} from '@parley/protocol';
import type { ScriptTurn } from '@parley/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  ENGINES,
  scriptedAgent,
  startTestServer,
  type TestServer,
} from './support/harness.ts';

/*
 * Runs over real SSE on loopback: conformant streams, JSON answers, resume with
 * Last-Event-ID (after a dropped connection, in the middle of a tool call), cancel,
 * approvals, and the run going on when nobody listens.
 */

const basics = [{ name: '@parley/plugin-basics', version: '^0.1.0' }];

/** Calls the calculator, then answers with its result. */
const toolScript: ScriptTurn[] = [
  [
    { type: 'text', text: 'Let me compute that.' },
    {
      type: 'tool_call',
      name: 'calculator',
      args: { expression: '6 * 7' },
      id: 'call_calc',
      deltas: ['{"expression"', ':"6 * 7"}'],
    },
  ],
  [
    { type: 'delay', ms: 200 },
    { type: 'text', text: 'It is 42.' },
  ],
];

/** Streams slowly, so a client can drop in the middle. */
const slowScript: ScriptTurn[] = [
  [
    { type: 'text', text: 'one two three four five six seven eight' },
    { type: 'delay', ms: 50 },
    {
      type: 'tool_call',
      name: 'calculator',
      args: { expression: '1 + 1' },
      id: 'call_slow',
      deltas: ['{"expr', 'ession":', '"1 + 1"}'],
    },
  ],
  [
    { type: 'delay', ms: 50 },
    { type: 'text', text: 'The answer is two, as computed.' },
  ],
];

const hangScript: ScriptTurn[] = [[{ type: 'text', text: 'Thinking about it' }, { type: 'hang' }]];

async function collect(response: Response, until?: (e: ParleyEvent) => boolean) {
  const events: ParleyEvent[] = [];
  for await (const event of readParleyEvents(response.body!)) {
    events.push(event);
    if (until?.(event)) break;
  }
  return events;
}

describe.each(ENGINES)('runs over SSE [%s]', (engine) => {
  let server: TestServer;
  let call: ReturnType<typeof client>;
  let ws: string;

  const deploy = async (
    name: string,
    script?: ScriptTurn[],
    extra: Record<string, unknown> = {},
  ) => {
    const res = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent(name, script, { plugins: basics, ...extra }),
      deploy: true,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as { agent: { id: string } };
    return body.agent.id;
  };
  const start = (agent: string, input = 'hi', signal?: AbortSignal) =>
    fetch(`${server.url}/v1/workspaces/${ws}/agents/${agent}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input }),
      ...(signal ? { signal } : {}),
    });
  const resume = (runId: string, lastEventId?: number) =>
    fetch(`${server.url}/v1/runs/${runId}/events`, {
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}),
      },
    });

  beforeAll(async () => {
    server = await startTestServer({ engine, tuning: { runLingerMs: 0 } });
    call = client(server.url, server.token);
    ws = server.workspaceId;
    await deploy('calc', toolScript);
    await deploy('slow', slowScript);
    await deploy('hang', hangScript);
    await deploy('approve', toolScript, { requireApproval: ['calculator'] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('streams a tool-calling run that passes the conformance checker, and stores it', async () => {
    const res = await start('calc', 'what is 6 * 7?');
    expect(res.headers.get('x-parley-stream')).toBe('1');
    const runId = res.headers.get('x-parley-run-id')!;
    const events = await collect(res);
    expect(checkConformance(events)).toEqual([]);
    const types = events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'tool_call.start',
        'tool_call.delta',
        'tool_call.complete',
        'tool.result',
      ]),
    );
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      ok: true,
      output: { expression: '6 * 7', result: 42 },
    });
    expect(textOf(reduceEvents(events))).toContain('It is 42.');
    // The stored log is exactly what was streamed.
    const replay = await collect(await resume(runId));
    expect(replay).toEqual(events);
    const run = await (await call('GET', `/v1/runs/${runId}`)).json();
    expect(run).toMatchObject({
      status: 'succeeded',
      lastSeq: events.length,
      provider: 'scripted',
    });
    // The conversation holds the user message, the assistant's tool call, the result, the answer.
    const conversationId = events[0]!.type === 'run.start' ? events[0]!.conversationId : '';
    const messages = (await (
      await call('GET', `/v1/workspaces/${ws}/conversations/${conversationId}/messages`)
    ).json()) as { role: string }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it('answers JSON when asked, and continues a conversation', async () => {
    const first = await call(
      'POST',
      `/v1/workspaces/${ws}/agents/calc/runs`,
      { input: 'x' },
      { accept: 'application/json' },
    );
    expect(first.status).toBe(200);
    const body = (await first.json()) as { text: string; parts: { kind: string }[] };
    expect(body).toMatchObject({ outcome: 'run.finish', run: { status: 'succeeded' } });
    expect(body.text).toContain('It is 42.');
    expect(body.parts.some((p) => p.kind === 'tool_call')).toBe(true);
    const echo = await deploy('echo');
    const a = (await (
      await call(
        'POST',
        `/v1/workspaces/${ws}/agents/${echo}/runs`,
        { input: 'first' },
        { accept: 'application/json' },
      )
    ).json()) as { conversationId: string };
    const b = (await (
      await call(
        'POST',
        `/v1/workspaces/${ws}/agents/${echo}/runs`,
        { input: 'second', conversationId: a.conversationId },
        { accept: 'application/json' },
      )
    ).json()) as { conversationId: string; text: string };
    expect(b.conversationId).toBe(a.conversationId);
    expect(b.text).toBe('(scripted) second');
  });

  it('resumes after a dropped connection with Last-Event-ID: nothing lost, nothing repeated', async () => {
    const controller = new AbortController();
    const res = await start('slow', 'count', controller.signal);
    const runId = res.headers.get('x-parley-run-id')!;
    const head = await collect(res, (e) => e.type === 'text.delta' && e.seq >= 5);
    controller.abort();
    const last = head.at(-1)!.seq;
    const tail = await collect(await resume(runId, last));
    expect(tail[0]!.seq).toBe(last + 1);
    const whole = [...head, ...tail];
    expect(checkConformance(whole)).toEqual([]);
    expect(whole.at(-1)?.type).toBe('run.finish');
    expect(textOf(reduceEvents(whole))).toContain('The answer is two');
  });

  it('resumes from the middle of a tool call (between argument deltas)', async () => {
    const controller = new AbortController();
    const res = await start('slow', 'count', controller.signal);
    const runId = res.headers.get('x-parley-run-id')!;
    const head = await collect(res, (e) => e.type === 'tool_call.delta');
    controller.abort();
    const tail = await collect(await resume(runId, head.at(-1)!.seq));
    const whole = [...head, ...tail];
    expect(checkConformance(whole)).toEqual([]);
    const complete = whole.find((e) => e.type === 'tool_call.complete');
    expect(complete).toMatchObject({ toolCallId: 'call_slow', args: { expression: '1 + 1' } });
    const argsText = whole
      .filter((e) => e.type === 'tool_call.delta')
      .map((e) => (e.type === 'tool_call.delta' ? e.argsDelta : ''))
      .join('');
    expect(JSON.parse(argsText)).toEqual({ expression: '1 + 1' });
  });

  it('keeps running when the client goes away (a disconnect is not a cancel)', async () => {
    const controller = new AbortController();
    const res = await start('slow', 'go', controller.signal);
    const runId = res.headers.get('x-parley-run-id')!;
    await collect(res, (e) => e.type === 'run.start');
    controller.abort();
    const events = await collect(await resume(runId, 0));
    expect(events.at(-1)?.type).toBe('run.finish');
  });

  it('cancels: the stream ends with run.abort, the run is recorded cancelled, a second cancel changes nothing', async () => {
    const res = await start('hang');
    const runId = res.headers.get('x-parley-run-id')!;
    const reading = collect(res);
    await new Promise((r) => setTimeout(r, 100));
    const cancel = await call('POST', `/v1/runs/${runId}/cancel`);
    expect(await cancel.json()).toEqual({ runId, cancelled: true, status: 'cancelled' });
    const events = await reading;
    expect(checkConformance(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'run.abort', reason: 'cancelled' });
    expect((events.at(-1) as { by?: string }).by).toMatch(/^token:/);
    expect(await (await call('POST', `/v1/runs/${runId}/cancel`)).json()).toEqual({
      runId,
      cancelled: false,
      status: 'cancelled',
    });
    expect(await (await call('GET', `/v1/runs/${runId}`)).json()).toMatchObject({
      status: 'cancelled',
    });
    const audit = (await (
      await call('GET', `/v1/workspaces/${ws}/audit?action=run.cancel`)
    ).json()) as { targetId: string }[];
    expect(audit.some((a) => a.targetId === runId)).toBe(true);
  });

  it('waits for approval (a stream of it starts at once); approve lets the tool run, deciding twice is refused', async () => {
    const res = await start('approve');
    const runId = res.headers.get('x-parley-run-id')!;
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(res.body!)) {
      events.push(event);
      if (event.type === 'tool.approval_requested') {
        // A stream with nothing to send yet (the run waits for the decision) starts at once:
        // its headers do not wait for a first frame (the first heartbeat comes after 15 s).
        const waiting = await fetch(`${server.url}/v1/runs/${runId}/events?after=${event.seq}`, {
          headers: { authorization: `Bearer ${server.token}` },
          signal: AbortSignal.timeout(5_000),
        });
        expect(waiting.status).toBe(200);
        expect(waiting.headers.get('content-type')).toMatch(/^text\/event-stream/);
        await waiting.body?.cancel();
        const decided = await call('POST', `/v1/runs/${runId}/approvals/${event.toolCallId}`, {
          decision: 'approved',
        });
        expect(await decided.json()).toEqual({ toolCallId: 'call_calc', decision: 'approved' });
        const again = await call('POST', `/v1/runs/${runId}/approvals/${event.toolCallId}`, {
          decision: 'denied',
        });
        expect(again.status).toBe(404);
        expect(await again.json()).toMatchObject({ code: 'run.approval_not_pending' });
      }
    }
    expect(checkConformance(events)).toEqual([]);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      ok: true,
      output: { expression: '6 * 7', result: 42 },
    });
    const late = await call('POST', `/v1/runs/${runId}/approvals/call_calc`, {
      decision: 'approved',
    });
    expect(await late.json()).toMatchObject({ code: 'run.not_running' });
  });

  it('a denied approval reaches the model as a failed tool result', async () => {
    const res = await start('approve');
    const runId = res.headers.get('x-parley-run-id')!;
    const events: ParleyEvent[] = [];
    for await (const event of readParleyEvents(res.body!)) {
      events.push(event);
      if (event.type === 'tool.approval_requested')
        await call('POST', `/v1/runs/${runId}/approvals/${event.toolCallId}`, {
          decision: 'denied',
        });
    }
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ ok: false });
  });

  it('a change to an agent reaches its very next run (deploy, rename, archive), and a conversation stays with its agent', async () => {
    const json = async (agent: string, body: Record<string, unknown>) => {
      const res = await call('POST', `/v1/workspaces/${ws}/agents/${agent}/runs`, body, {
        accept: 'application/json',
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await deploy('changing', [[{ type: 'text', text: 'version one' }]]);
    // Twice: the second run is served from what the first one read.
    expect((await json('changing', { input: 'a' })).body.text).toBe('version one');
    const first = await json('changing', { input: 'b' });
    expect(first.body.text).toBe('version one');
    const redeploy = () =>
      call('POST', `/v1/workspaces/${ws}/agents/changing/versions`, {
        definition: scriptedAgent('changing', [[{ type: 'text', text: 'version two' }]]),
      });
    const deployed = await redeploy();
    expect(deployed.status).toBe(201);
    expect(await deployed.json()).toMatchObject({ created: true, version: { version: 2 } });
    // The same definition again creates nothing: 200, and the version it already is.
    const unchanged = await redeploy();
    expect(unchanged.status).toBe(200);
    expect(await unchanged.json()).toMatchObject({ created: false, version: { version: 2 } });
    expect((await json('changing', { input: 'c' })).body.text).toBe('version two');

    const renamed = await call('PATCH', `/v1/workspaces/${ws}/agents/changing`, {
      name: 'changed',
    });
    expect(renamed.status).toBe(200);
    expect((await json('changing', { input: 'd' })).status).toBe(404);
    expect((await json('changed', { input: 'e' })).body.text).toBe('version two');

    // Another agent's conversation: refused before anything is written or sent to a model.
    const other = await json('calc', {
      input: 'f',
      conversationId: first.body.conversationId,
    });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'resource.not_found' });

    const archived = await call('PATCH', `/v1/workspaces/${ws}/agents/changed`, {
      archived: true,
    });
    expect(archived.status).toBe(200);
    expect((await json('changed', { input: 'g' })).body).toMatchObject({
      code: 'resource.conflict',
    });
  });

  it('answers clearly when a run cannot start', async () => {
    const missingKey = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: {
        name: 'keyless',
        instructions: 'x',
        model: { provider: 'openai', model: 'gpt-4.1-mini' },
      },
      deploy: true,
    });
    expect(missingKey.status).toBe(201);
    const res = await call('POST', `/v1/workspaces/${ws}/agents/keyless/runs`, { input: 'hi' });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { detail: string };
    expect(problem).toMatchObject({ code: 'agent.unavailable' });
    expect(problem.detail).toContain('OPENAI_API_KEY');
    // The command to run names this workspace, not a placeholder (issue #30).
    expect(problem.detail).toContain(`PUT /v1/workspaces/${ws}/secrets/OPENAI_API_KEY`);
    expect(problem.detail).not.toMatch(/\{\w+\}/);
    const draftOnly = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('drafty'),
    });
    expect(draftOnly.status).toBe(201);
    const fromDraft = await call(
      'POST',
      `/v1/workspaces/${ws}/agents/drafty/runs`,
      { input: 'hi' },
      { accept: 'application/json' },
    );
    expect(((await fromDraft.json()) as { text: string }).text).toBe('(scripted) hi');
    expect(
      (await call('POST', `/v1/workspaces/${ws}/agents/drafty/runs`, { input: 'hi', version: 3 }))
        .status,
    ).toBe(404);
    const unknownPlugin = await call('POST', `/v1/workspaces/${ws}/agents`, {
      definition: scriptedAgent('plugged', undefined, {
        plugins: [{ name: '@parley/plugin-nope' }],
      }),
    });
    expect(unknownPlugin.status).toBe(201);
    const refused = await call('POST', `/v1/workspaces/${ws}/agents/plugged/runs`, { input: 'hi' });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'agent.unavailable' });
    const badResume = await fetch(`${server.url}/v1/runs/${crypto.randomUUID()}/events`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(badResume.status).toBe(404);
  });
});

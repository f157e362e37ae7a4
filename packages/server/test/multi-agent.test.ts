import {
  checkConformance,
  isTerminalEvent,
  type ParleyEvent,
  readParleyEvents,
  reduceEvents,
  type StreamState,
  textOf,
} from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Teams of agents (docs/multi-agent.md) on the scripted provider: a supervisor calling two
 * workers, its stream carrying theirs (checked as nested streams), a cancel in the middle,
 * the depth limit, a worker the caller's token may not run, and a handoff across turns.
 */

let server: TestServer;
let api: ReturnType<typeof client>;

const callTool = (name: string, args: unknown, id: string) => ({
  type: 'tool_call',
  name,
  args,
  id,
});

async function deploy(definition: Record<string, unknown>) {
  const res = await api('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
    definition,
    deploy: true,
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

function startRun(agent: string, body: Record<string, unknown>, token = server.token) {
  return client(server.url, token)(
    'POST',
    `/v1/workspaces/${server.workspaceId}/agents/${agent}/runs`,
    body,
  );
}

async function readAll(res: Response, until?: (e: ParleyEvent) => boolean) {
  const events: ParleyEvent[] = [];
  for await (const event of readParleyEvents(res.body!)) {
    events.push(event);
    if (until?.(event)) break;
  }
  return events;
}

/** Every terminal event of the run tree a state folds, depth first. */
function terminalsOf(state: StreamState): string[] {
  const own = state.error ? [state.error.code] : [state.status];
  return [...own, ...state.children.flatMap((child) => terminalsOf(child.state))];
}

beforeAll(async () => {
  server = await startTestServer({ tuning: { runLingerMs: 0 } });
  api = client(server.url, server.token);
  for (const name of ['worker-a', 'worker-b', 'secret-worker', 'billing'])
    await deploy(scriptedAgent(name));
  await deploy(scriptedAgent('slow-worker', [[{ type: 'hang' }]]));
  await deploy(
    scriptedAgent(
      'supervisor',
      [
        [
          callTool('ask_worker-a', { input: 'part one' }, 'call_a'),
          callTool('ask_worker-b', { input: 'part two' }, 'call_b'),
        ],
        [{ type: 'text', text: 'Both workers answered.' }],
      ],
      { agents: [{ name: 'worker-a' }, { name: 'worker-b', description: 'Does part two.' }] },
    ),
  );
  await deploy(
    scriptedAgent('waits', [[callTool('ask_slow-worker', { input: 'take your time' }, 'c1')]], {
      agents: [{ name: 'slow-worker' }],
    }),
  );
  await deploy(
    scriptedAgent(
      'recursive',
      [[callTool('ask_recursive', { input: 'deeper' }, 'c1')], [{ type: 'text', text: 'done' }]],
      { agents: [{ name: 'recursive' }], agentLimits: { maxDepth: 2 } },
    ),
  );
  await deploy(
    scriptedAgent(
      'gated-worker',
      [
        [callTool('calculator', { expression: '1 + 1' }, 'gated_call')],
        [{ type: 'text', text: 'It is two.' }],
      ],
      {
        plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
        requireApproval: ['calculator'],
      },
    ),
  );
  await deploy(
    scriptedAgent(
      'asks-gated',
      [
        [callTool('ask_gated-worker', { input: '1 + 1?' }, 'c1')],
        [{ type: 'text', text: 'Done.' }],
      ],
      { agents: [{ name: 'gated-worker' }] },
    ),
  );
  // The supervisor's script, with limits its two calls break.
  const twoCalls = [
    [
      callTool('ask_worker-a', { input: 'part one' }, 'call_a'),
      callTool('ask_worker-b', { input: 'part two' }, 'call_b'),
    ],
    [{ type: 'text', text: 'never' }],
  ];
  const workers = [{ name: 'worker-a' }, { name: 'worker-b' }];
  await deploy(
    scriptedAgent('one-child', twoCalls, { agents: workers, agentLimits: { maxChildRuns: 1 } }),
  );
  await deploy(
    scriptedAgent('frugal', twoCalls, { agents: workers, agentLimits: { maxTotalTokens: 1 } }),
  );
  await deploy(
    scriptedAgent('asks-secret', [[callTool('ask_secret-worker', { input: 'psst' }, 'c1')]], {
      agents: [{ name: 'secret-worker' }],
    }),
  );
  await deploy(
    scriptedAgent('triage', [[callTool('handoff_to_billing', { reason: 'an invoice' }, 'h1')]], {
      agents: [{ name: 'billing', as: 'handoff' }],
    }),
  );
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('agents as tools', () => {
  it('a supervisor calls two workers: their runs stream inside its own, each conforming', async () => {
    const res = await startRun('supervisor', { input: 'Do both parts.' });
    expect(res.status).toBe(200);
    const runId = res.headers.get('x-parley-run-id')!;
    const events = await readAll(res);
    expect(checkConformance(events)).toEqual([]);

    const state = reduceEvents(events);
    expect(state.status).toBe('finished');
    expect(textOf(state)).toBe('Both workers answered.');
    const children = state.children.map((c) => [c.agent, c.toolCallId, textOf(c.state)]).sort();
    expect(children).toEqual([
      ['worker-a', 'call_a', '(scripted) part one'],
      ['worker-b', 'call_b', '(scripted) part two'],
    ]);
    // The workers' answers came back to the supervisor as its tools' results.
    const results = events.filter((e) => e.type === 'tool.result');
    expect(results.map((e) => e.type === 'tool.result' && e.ok)).toEqual([true, true]);

    // Each child is a run of its own, listed with its parent, its log a stream of its own.
    const listed = await api(
      'GET',
      `/v1/workspaces/${server.workspaceId}/runs?parentRunId=${runId}`,
    );
    const runs = (await listed.json()) as { id: string; parentRunId: string; status: string }[];
    expect(runs.map((r) => [r.parentRunId, r.status])).toEqual([
      [runId, 'succeeded'],
      [runId, 'succeeded'],
    ]);
    for (const child of runs) {
      const log = await readAll(await api('GET', `/v1/runs/${child.id}/events`));
      expect(checkConformance(log)).toEqual([]);
      const carried = state.children.find((c) => c.childRunId === child.id)!;
      expect(log.map((e) => e.seq)).toEqual(
        events
          .filter((e) => e.type === 'run.child' && e.childRunId === child.id)
          .map((e) => (e.type === 'run.child' ? e.event.seq : 0)),
      );
      expect(carried.state.status).toBe('finished');
    }
  });

  it('cancelling the parent in the middle cancels the child it waits for', async () => {
    const res = await startRun('waits', { input: 'start the slow one' });
    const runId = res.headers.get('x-parley-run-id')!;
    const events: ParleyEvent[] = [];
    const reader = readParleyEvents(res.body!)[Symbol.asyncIterator]();
    // Until the child's model call started: it hangs there.
    for (;;) {
      const { value } = await reader.next();
      events.push(value!);
      if (value!.type === 'run.child' && value!.event.type === 'step.start') break;
    }
    const childRunId = events.findLast((e) => e.type === 'run.child')!;
    const cancel = await api('POST', `/v1/runs/${runId}/cancel`);
    expect(cancel.status).toBe(200);
    for (let next = await reader.next(); !next.done; next = await reader.next())
      events.push(next.value);
    expect(events.at(-1)).toMatchObject({ type: 'run.abort', reason: 'cancelled' });
    expect(checkConformance(events)).toEqual([]);
    const childId = childRunId.type === 'run.child' ? childRunId.childRunId : '';
    // The child's own record ends cancelled (its stream stored apart).
    let child = { status: 'running' };
    while (child.status === 'running')
      child = (await (await api('GET', `/v1/runs/${childId}`)).json()) as { status: string };
    expect(child.status).toBe('cancelled');
  });

  it("a child's tool approval is answered through its parent", async () => {
    const res = await startRun('asks-gated', { input: 'add' });
    const runId = res.headers.get('x-parley-run-id')!;
    const events: ParleyEvent[] = [];
    const reader = readParleyEvents(res.body!)[Symbol.asyncIterator]();
    for (;;) {
      const { value } = await reader.next();
      events.push(value!);
      if (value!.type === 'run.child' && value!.event.type === 'tool.approval_requested') break;
    }
    const decided = await api('POST', `/v1/runs/${runId}/approvals/gated_call`, {
      decision: 'approved',
    });
    expect(decided.status, await decided.clone().text()).toBe(200);
    for (let next = await reader.next(); !next.done; next = await reader.next())
      events.push(next.value);
    expect(checkConformance(events)).toEqual([]);
    const state = reduceEvents(events);
    expect(textOf(state)).toBe('Done.');
    expect(textOf(state.children[0]!.state)).toBe('It is two.');
    const call = state.children[0]!.state.parts.find((p) => p.kind === 'tool_call');
    expect(call).toMatchObject({ name: 'calculator', status: 'succeeded' });
  });

  it('an agent calling itself stops at the depth limit with a typed error', async () => {
    const res = await startRun('recursive', { input: 'go' });
    const events = await readAll(res);
    expect(checkConformance(events)).toEqual([]);
    const state = reduceEvents(events);
    // Depth 0 and 1 finish (their call failed, the model went on); depth 2 hit the limit.
    expect(terminalsOf(state)).toEqual(['finished', 'finished', 'agent_depth_exceeded']);
    const deepest = state.children[0]!.state.children[0]!.state;
    expect(deepest.error?.message).toMatch(/limit is 2/);
  });

  it('a run that starts more child runs than it may ends with agent_child_limit', async () => {
    const res = await startRun('one-child', { input: 'both' });
    const runId = res.headers.get('x-parley-run-id')!;
    const events = await readAll(res);
    expect(checkConformance(events)).toEqual([]);
    const end = events.at(-1)!;
    expect(end.type === 'run.error' && end.error.code).toBe('agent_child_limit');
    // The one child the first call started ends with its parent, never left running.
    const children = async () =>
      (await (
        await api('GET', `/v1/workspaces/${server.workspaceId}/runs?parentRunId=${runId}`)
      ).json()) as { status: string }[];
    let listed = await children();
    while (listed.some((r) => r.status === 'running' || r.status === 'queued'))
      listed = await children();
    expect(listed.length).toBeLessThanOrEqual(1);
  });

  it('a run tree over its token budget ends with agent_token_budget', async () => {
    const events = await readAll(await startRun('frugal', { input: 'both' }));
    expect(checkConformance(events)).toEqual([]);
    const end = events.at(-1)!;
    expect(end.type === 'run.error' && end.error.code).toBe('agent_token_budget');
    expect(end.type === 'run.error' && end.error.message).toMatch(/budget is 1\b/);
  });

  it('a token limited to some agents may not run a worker outside them', async () => {
    const created = await api('POST', `/v1/workspaces/${server.workspaceId}/tokens`, {
      name: 'only asks-secret',
      scopes: ['runs:create', 'runs:read', 'tokens:manage', 'agent:asks-secret'],
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { token } = (await created.json()) as { token: string };

    const direct = await startRun('secret-worker', { input: 'hi' }, token);
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { code: string }).code).toBe('auth.forbidden');

    const events = await readAll(await startRun('asks-secret', { input: 'hi' }, token));
    expect(checkConformance(events)).toEqual([]);
    const end = events.at(-1)!;
    expect(end.type === 'run.error' && end.error.code).toBe('agent_forbidden');
    expect(events.some((e) => e.type === 'run.child')).toBe(false);

    // What it mints is limited to its agents too, never to none.
    const mint = (scopes: string[]) =>
      client(server.url, token)('POST', `/v1/workspaces/${server.workspaceId}/tokens`, {
        name: 'minted',
        scopes,
      });
    expect((await mint(['runs:create'])).status).toBe(403);
    expect((await mint(['runs:create', 'agent:secret-worker'])).status).toBe(403);
    expect((await mint(['runs:create', 'agent:asks-secret'])).status).toBe(201);
  });
});

describe('handoffs', () => {
  it('hands the conversation to another agent, which answers this turn and the next', async () => {
    const first = await startRun('triage', { input: 'My invoice is wrong.' });
    const conversationId = first.headers.get('x-parley-conversation-id');
    const events = await readAll(first);
    expect(checkConformance(events)).toEqual([]);
    const state = reduceEvents(events);
    expect(state.status).toBe('finished');
    expect(state.finishReason).toEqual({ unified: 'other', raw: 'handoff' });
    expect(state.children.map((c) => [c.agent, textOf(c.state)])).toEqual([
      ['billing', '(scripted) My invoice is wrong.'],
    ]);

    const convo = conversationId ?? ((await runOf(state.runId!)).conversationId as string);
    const second = await readAll(
      await startRun('triage', { input: 'And the one before?', conversationId: convo }),
      isTerminalEvent,
    );
    const next = reduceEvents(second);
    expect(checkConformance(second)).toEqual([]);
    expect(textOf(next)).toBe('(scripted) And the one before?');
    const billing = (await (
      await api('GET', `/v1/workspaces/${server.workspaceId}/agents/billing`)
    ).json()) as { agent: { id: string } };
    expect(next.agentId).toBe(billing.agent.id);
  });
});

async function runOf(runId: string): Promise<Record<string, unknown>> {
  return (await (await api('GET', `/v1/runs/${runId}`)).json()) as Record<string, unknown>;
}

import {
  assertConformance,
  type ParleyEvent,
  reduceEvents,
  textOf,
  toolCallsOf,
} from '@parley/protocol';
import { createScriptedModel, type ScriptTurn } from '@parley/providers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type AgentDefinitionInput,
  createApprovalGate,
  createInMemoryMemoryStore,
  createInMemoryRunStore,
  createPluginHost,
  defineAgent,
  definePlugin,
  defineTool,
  type RunCapabilities,
  runAgent,
} from '../src/index.ts';

/** An event without its envelope: the payload core hands its store before emitting it. */
function omitEnvelope(event: ParleyEvent) {
  const { v: _v, seq: _seq, runId: _runId, t: _t, stepId: _stepId, ...payload } = event;
  return payload;
}

/** A small plugin whose tools let each test steer the run. */
function testPlugin(hooks: { onSlowStart?: () => void; release?: Promise<void> } = {}) {
  return definePlugin({
    name: 'test-tools',
    version: '1.0.0',
    contract: 1,
    core: '^0.1.0',
    permissions: { secrets: ['WEATHER_KEY'] },
    tools: [
      defineTool({
        name: 'get_weather',
        description: 'Weather for a city',
        input: z.object({ city: z.string() }),
        run: ({ city }) => ({ city, tempC: 14 }),
      }),
      defineTool({
        name: 'slow',
        description: 'Waits until released or cancelled',
        input: z.object({}),
        run: async (_args, context) => {
          hooks.onSlowStart?.();
          await new Promise<void>((resolve, reject) => {
            hooks.release?.then(resolve);
            context.signal.addEventListener('abort', () => reject(new Error('aborted')), {
              once: true,
            });
          });
          return 'slow done';
        },
      }),
      defineTool({
        name: 'remember',
        description: 'Store a fact',
        input: z.object({ fact: z.string() }),
        run: async ({ fact }, context) =>
          (await context.memory.remember(fact, { kind: 'fact' })).id,
      }),
      defineTool({
        name: 'leak',
        description: 'Returns the secret (to prove it is redacted)',
        input: z.object({}),
        run: async (_args, context) => ({
          key: `value is ${await context.secrets.get('WEATHER_KEY')}`,
        }),
      }),
      defineTool({
        name: 'delete_everything',
        description: 'Needs a person to approve',
        input: z.object({}),
        requiresApproval: true,
        run: () => 'deleted',
      }),
    ],
  });
}

interface Setup {
  scripts: Record<string, ScriptTurn[]>;
  agent?: Partial<AgentDefinitionInput>;
  plugin?: ReturnType<typeof testPlugin>;
  signal?: AbortSignal;
  approvals?: ReturnType<typeof createApprovalGate>;
}

function setup({ scripts, agent, plugin = testPlugin(), signal, approvals }: Setup) {
  const plugins = createPluginHost({
    secrets: (name) => (name === 'WEATHER_KEY' ? 'sk-weather-123456' : undefined),
  });
  plugins.register(plugin);
  const models = new Map<string, ReturnType<typeof createScriptedModel>>();
  const store = createInMemoryRunStore();
  const memory = createInMemoryMemoryStore();
  const capabilities: RunCapabilities = {
    models: (ref) => {
      let model = models.get(ref.model);
      if (!model) {
        model = createScriptedModel({
          model: ref.model,
          script: scripts[ref.model] ?? [],
          maxRetries: 0,
        });
        models.set(ref.model, model);
      }
      return model;
    },
    store,
    plugins,
    memory,
    ...(signal ? { signal } : {}),
    ...(approvals ? { approvals } : {}),
  };
  const definition = defineAgent({
    name: 'tester',
    instructions: 'Be brief.',
    model: { provider: 'scripted', model: 'primary' },
    plugins: [{ name: 'test-tools' }],
    ...agent,
  });
  const request = {
    agent: definition,
    agentId: 'agt_1',
    workspaceId: 'ws_1',
    conversationId: 'conv_1',
    userId: 'usr_1',
    input: 'hi',
  };
  return { capabilities, store, memory, request };
}

async function collect(stream: AsyncIterable<ParleyEvent>, onEvent?: (event: ParleyEvent) => void) {
  const events: ParleyEvent[] = [];
  for await (const event of stream) {
    events.push(event);
    onEvent?.(event);
  }
  assertConformance(events);
  return events;
}

const types = (events: ParleyEvent[]) => events.map((e) => e.type);

describe('run loop', () => {
  it('streams a text-only answer and persists the conversation and the run', async () => {
    const { capabilities, store, request } = setup({
      scripts: { primary: [[{ type: 'text', text: 'Hello there.' }]] },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events[0]).toMatchObject({
      type: 'run.start',
      agentId: 'agt_1',
      conversationId: 'conv_1',
    });
    expect(events.at(-1)).toMatchObject({
      type: 'run.finish',
      finishReason: { unified: 'stop' },
      timing: { steps: 1 },
    });
    expect(textOf(reduceEvents(events))).toBe('Hello there.');
    expect(store.messages.map((m) => [m.message.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    const run = [...store.runs.values()][0]!;
    // The stored outcome is the terminal event the stream ended with, nothing computed beside it.
    expect(run.status).toBe('succeeded');
    expect(run.end).toEqual(omitEnvelope(events.at(-1)!));
    expect(run.end).toMatchObject({ usage: { outputTokens: expect.any(Number) } });
  });

  it('runs one tool call, feeds the result back and answers', async () => {
    const { capabilities, store, request } = setup({
      scripts: {
        primary: [
          [{ type: 'tool_call', name: 'get_weather', args: { city: 'Paris' }, id: 'call_1' }],
          [{ type: 'text', text: 'It is 14 °C.' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      toolCallId: 'call_1',
      ok: true,
      output: { city: 'Paris', tempC: 14 },
    });
    const state = reduceEvents(events);
    expect(toolCallsOf(state)[0]).toMatchObject({ status: 'succeeded' });
    expect(state.steps).toHaveLength(2);
    expect(store.messages.map((m) => m.message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
    expect(store.messages[2]!.message).toMatchObject({
      role: 'tool',
      toolCallId: 'call_1',
      content: '{"city":"Paris","tempC":14}',
    });
  });

  it("ends after a step that calls the caller's own tool, running the agent's tools of that step first", async () => {
    const { capabilities, store, request } = setup({
      scripts: {
        primary: [
          [
            { type: 'tool_call', name: 'get_weather', args: { city: 'Paris' }, id: 'call_own' },
            { type: 'tool_call', name: 'open_map', args: { city: 'Paris' }, id: 'call_client' },
            { type: 'finish', reason: 'tool-calls' },
          ],
        ],
      },
    });
    const openMap = {
      name: 'open_map',
      description: 'Opens a map in the app',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    };
    const events = await collect(runAgent({ ...request, clientTools: [openMap] }, capabilities));
    expect(events.filter((e) => e.type === 'tool_call.complete').map((e) => e.toolCallId)).toEqual([
      'call_own',
      'call_client',
    ]);
    // Only the agent's own call ran; the caller's waits for the caller.
    expect(events.filter((e) => e.type === 'tool.result').map((e) => e.toolCallId)).toEqual([
      'call_own',
    ]);
    expect(events.at(-1)).toMatchObject({
      type: 'run.finish',
      finishReason: { unified: 'tool-calls' },
    });
    expect(store.messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'tool']);
  });

  it("sends the messages after the input (the caller's tool results) to the model, and stores them", async () => {
    let seen: unknown[] = [];
    const { capabilities, store, request } = setup({
      scripts: { primary: [[{ type: 'text', text: 'The map is open.' }]] },
    });
    const models = capabilities.models;
    capabilities.models = (ref) => {
      const model = models(ref);
      return {
        ...model,
        stream: (req, options) => {
          seen = [...req.messages];
          return model.stream(req, options);
        },
      };
    };
    const after = [
      {
        role: 'assistant' as const,
        content: '',
        toolCalls: [{ id: 'call_client', name: 'open_map', args: { city: 'Paris' } }],
      },
      { role: 'tool' as const, toolCallId: 'call_client', name: 'open_map', content: 'opened' },
    ];
    const events = await collect(runAgent({ ...request, after }, capabilities));
    expect(textOf(reduceEvents(events))).toBe('The map is open.');
    expect(seen.slice(-3)).toEqual([{ role: 'user', content: 'hi' }, ...after]);
    expect(store.messages.map((m) => m.message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
  });

  it('runs parallel tool calls concurrently and yields results as they finish', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // `slow` only finishes once `get_weather` has; if tools ran one by one the run would hang.
    const plugin = testPlugin({ release: released });
    const weather = plugin.tools!.find((t) => t.name === 'get_weather')!;
    const original = weather.run;
    weather.run = (args, context) => {
      setTimeout(release, 0);
      return original(args, context);
    };
    const { capabilities, request } = setup({
      plugin,
      scripts: {
        primary: [
          [
            { type: 'tool_call', name: 'slow', args: {}, id: 'call_slow' },
            { type: 'tool_call', name: 'get_weather', args: { city: 'Rome' }, id: 'call_fast' },
          ],
          [{ type: 'text', text: 'done' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(
      events
        .filter((e) => e.type === 'tool.result')
        .map((e) => (e as { toolCallId: string }).toolCallId),
    ).toEqual(['call_fast', 'call_slow']);
  });

  it('rejects invalid arguments with tool_call.invalid and lets the model repair them', async () => {
    const { capabilities, store, request } = setup({
      scripts: {
        primary: [
          [{ type: 'tool_call', name: 'get_weather', args: { city: 5 }, id: 'call_bad' }],
          [{ type: 'tool_call', name: 'get_weather', args: { city: 'Oslo' }, id: 'call_good' }],
          [{ type: 'text', text: 'Cold.' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    const invalid = events.find((e) => e.type === 'tool_call.invalid');
    expect(invalid).toMatchObject({
      toolCallId: 'call_bad',
      reason: expect.stringContaining('city'),
    });
    expect(events.filter((e) => e.type === 'tool.result')).toHaveLength(1);
    const feedback = store.messages.find(
      (m) => m.message.role === 'tool' && m.message.toolCallId === 'call_bad',
    );
    expect(feedback?.message).toMatchObject({
      isError: true,
      content: expect.stringContaining('Fix the arguments'),
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.finish', timing: { steps: 3 } });
  });

  it('reports an unknown tool as invalid', async () => {
    const { capabilities, request } = setup({
      scripts: {
        primary: [
          [{ type: 'tool_call', name: 'launch_rocket', args: {} }],
          [{ type: 'text', text: 'ok' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.find((e) => e.type === 'tool_call.invalid')).toMatchObject({
      reason: expect.stringContaining('unknown tool launch_rocket'),
    });
  });

  it('stops at the step limit', async () => {
    const call: ScriptTurn = [{ type: 'tool_call', name: 'get_weather', args: { city: 'Lima' } }];
    const { capabilities, request } = setup({
      agent: { maxSteps: 2 },
      scripts: { primary: [call, call, call] },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.filter((e) => e.type === 'step.start')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({
      type: 'run.finish',
      finishReason: { unified: 'other', raw: 'step_limit' },
    });
  });

  it('cancels mid-tool: run.abort, the tool sees its signal, the run is recorded cancelled', async () => {
    const controller = new AbortController();
    const plugin = testPlugin({ onSlowStart: () => setTimeout(() => controller.abort(), 0) });
    const { capabilities, store, request } = setup({
      plugin,
      signal: controller.signal,
      scripts: {
        primary: [
          [
            { type: 'text', text: 'Working on it.' },
            { type: 'tool_call', name: 'slow', args: {} },
          ],
          [{ type: 'text', text: 'never' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.at(-1)).toMatchObject({ type: 'run.abort', reason: 'cancelled' });
    expect(events.some((e) => e.type === 'tool.result')).toBe(false);
    expect([...store.runs.values()][0]?.status).toBe('cancelled');
  });

  it('cancels mid-stream', async () => {
    const controller = new AbortController();
    const { capabilities, request } = setup({
      signal: controller.signal,
      scripts: { primary: [[{ type: 'text', text: 'partial' }, { type: 'hang' }]] },
    });
    const events = await collect(runAgent(request, capabilities), (e) => {
      if (e.type === 'text.end') controller.abort();
    });
    expect(types(events).at(-1)).toBe('run.abort');
  });

  it('reports why and by whom when the abort reason says so (server shutdown)', async () => {
    const controller = new AbortController();
    const { capabilities, request } = setup({
      signal: controller.signal,
      scripts: { primary: [[{ type: 'text', text: 'partial' }, { type: 'hang' }]] },
    });
    const events = await collect(runAgent(request, capabilities), (e) => {
      if (e.type === 'text.delta') controller.abort({ reason: 'shutdown', by: 'server' });
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.abort', reason: 'shutdown', by: 'server' });
  });

  it('falls back to the next model on a retryable error before the first token', async () => {
    const { capabilities, request } = setup({
      agent: { fallbackModels: [{ provider: 'scripted', model: 'backup' }] },
      scripts: {
        primary: [[{ type: 'error', code: 'overloaded', message: 'Overloaded' }]],
        backup: [[{ type: 'text', text: 'from the backup' }]],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    const start = types(events).indexOf('step.start');
    expect(types(events).slice(start, start + 3)).toEqual([
      'step.start',
      'step.reset',
      'step.start',
    ]);
    expect(events[start + 1]).toMatchObject({
      type: 'step.reset',
      reason: 'fallback',
      error: { code: 'overloaded' },
    });
    expect(events[start + 2]).toMatchObject({ type: 'step.start', model: 'backup', attempt: 2 });
    expect(textOf(reduceEvents(events))).toBe('from the backup');
    expect(events.at(-1)?.type).toBe('run.finish');
  });

  it('falls back after an empty delta: content seen is one definition (carriesContent) for retry, fallback and TTFT', async () => {
    const { capabilities, request } = setup({
      agent: { fallbackModels: [{ provider: 'scripted', model: 'backup' }] },
      scripts: {
        // A block opened with an empty delta (a keep-alive) shows the client nothing.
        primary: [
          [
            { type: 'text', text: '', deltas: [''] },
            { type: 'delay', ms: 50 },
            { type: 'error', code: 'overloaded' },
          ],
        ],
        backup: [[{ type: 'text', text: 'from the backup' }]],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.find((e) => e.type === 'step.reset')).toMatchObject({ reason: 'fallback' });
    expect(textOf(reduceEvents(events))).toBe('from the backup');
    // The run's time to first token is the backup's first delta, after the primary's 50 ms.
    const end = events.at(-1)!;
    expect(end.type).toBe('run.finish');
    if (end.type === 'run.finish') expect(end.timing.ttftMs).toBeGreaterThanOrEqual(49);
  });

  it('does not fall back on a non-retryable error', async () => {
    const { capabilities, request } = setup({
      agent: { fallbackModels: [{ provider: 'scripted', model: 'backup' }] },
      scripts: {
        primary: [[{ type: 'error', code: 'auth', message: 'bad key' }]],
        backup: [[{ type: 'text', text: 'x' }]],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.at(-1)).toMatchObject({
      type: 'run.error',
      error: { code: 'auth' },
      partial: false,
    });
  });

  it('ends with a typed error after the first token and saves the partial message', async () => {
    const { capabilities, store, request } = setup({
      agent: { fallbackModels: [{ provider: 'scripted', model: 'backup' }] },
      scripts: {
        primary: [
          [
            { type: 'text', text: 'The answer is' },
            { type: 'error', code: 'overloaded' },
          ],
        ],
        backup: [],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.at(-1)).toMatchObject({
      type: 'run.error',
      error: { code: 'overloaded' },
      partial: true,
    });
    expect(store.messages.at(-1)).toMatchObject({
      status: 'partial',
      message: { role: 'assistant', content: 'The answer is' },
    });
    const run = [...store.runs.values()][0]!;
    expect(run.status).toBe('failed');
    expect(run.end).toEqual(omitEnvelope(events.at(-1)!));
  });

  it('saves only the failing step as partial when earlier steps completed', async () => {
    const { capabilities, store, request } = setup({
      scripts: {
        primary: [
          [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_call', name: 'get_weather', args: { city: 'Bern' } },
          ],
          [
            { type: 'text', text: 'It is' },
            { type: 'error', code: 'provider_error' },
          ],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.at(-1)).toMatchObject({ type: 'run.error', partial: true });
    expect(store.messages.map((m) => [m.message.role, m.status, m.message.content])).toEqual([
      ['user', 'complete', 'hi'],
      ['assistant', 'complete', 'Checking.'],
      ['tool', 'complete', '{"city":"Bern","tempC":14}'],
      ['assistant', 'partial', 'It is'],
    ]);
  });

  it('writes memories from a tool and from extraction, and recalls them next run', async () => {
    const { capabilities, memory, request } = setup({
      scripts: {
        primary: [
          [
            {
              type: 'tool_call',
              name: 'remember',
              args: { fact: 'Ada prefers tea' },
              id: 'call_mem',
            },
          ],
          [{ type: 'text', text: 'Noted.' }],
          [{ type: 'text', text: 'You prefer tea.' }],
        ],
      },
    });
    const first = await collect(
      runAgent({ ...request, input: 'My name is Ada. Remember I prefer tea.' }, capabilities),
    );
    const writes = first.filter((e) => e.type === 'memory.write');
    expect(writes[0]).toMatchObject({
      op: 'create',
      kind: 'fact',
      cause: { toolCallId: 'call_mem' },
      scope: { workspaceId: 'ws_1', agentId: 'agt_1', userId: 'usr_1' },
    });
    expect(writes.map((w) => (w as { summary: string }).summary)).toContain(
      "The user's name is Ada",
    );
    expect(memory.all().length).toBeGreaterThanOrEqual(2);

    const second = await collect(
      runAgent({ ...request, input: 'What do I prefer, tea or coffee?' }, capabilities),
    );
    const recall = second.find((e) => e.type === 'memory.recall');
    expect(recall).toMatchObject({ method: 'fulltext' });
    expect((recall as { hits: { memoryId: string }[] }).hits.map((h) => h.memoryId)).toContain(
      (writes[0] as { memoryId: string }).memoryId,
    );
  });

  it('skips recall while the agent has no memories, and recalls while the history loads', async () => {
    const { capabilities, request } = setup({
      scripts: {
        primary: [[{ type: 'text', text: 'Hello.' }], [{ type: 'text', text: 'Hello again.' }]],
      },
    });
    const first = await collect(runAgent(request, capabilities));
    expect(first.map((e) => e.type)).not.toContain('memory.recall');
    expect(first.at(-1)?.type).toBe('run.finish');

    // With a memory stored, the history is only returned once the search has started: the
    // run can only get to its model call if recall runs alongside the history load.
    await capabilities.memory!.write({
      text: 'Ada prefers tea',
      kind: 'fact',
      scope: { workspaceId: 'ws_1', agentId: 'agt_1' },
    });
    let searchStarted!: () => void;
    const searching = new Promise<void>((resolve) => {
      searchStarted = resolve;
    });
    const memory = capabilities.memory!;
    const store = capabilities.store;
    const second = await collect(
      runAgent(
        { ...request, input: 'Does Ada prefer tea?' },
        {
          ...capabilities,
          memory: {
            write: (entry) => memory.write(entry),
            mayHaveMemories: (agentId) => memory.mayHaveMemories!(agentId),
            search: (query) => {
              searchStarted();
              return memory.search(query);
            },
          },
          store: {
            ...store,
            loadHistory: async (conversationId) => {
              await searching;
              return store.loadHistory(conversationId);
            },
          },
        },
      ),
    );
    const recall = second.find((e) => e.type === 'memory.recall');
    expect(recall).toMatchObject({ method: 'fulltext' });
    expect((recall as { hits: unknown[] }).hits).toHaveLength(1);
    expect(textOf(reduceEvents(second))).toBe('Hello again.');
  });

  it('waits for approval and runs the tool when approved', async () => {
    const approvals = createApprovalGate();
    const { capabilities, request } = setup({
      approvals,
      scripts: {
        primary: [
          [{ type: 'tool_call', name: 'delete_everything', args: {}, id: 'call_x' }],
          [{ type: 'text', text: 'Done.' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities), (e) => {
      if (e.type === 'tool.approval_requested')
        setTimeout(() => expect(approvals.decide(e.approvalId, 'approved')).toBe(true), 0);
    });
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      ok: true,
      output: 'deleted',
    });
  });

  it('asks for approval for tools the agent lists in requireApproval', async () => {
    const approvals = createApprovalGate();
    const { capabilities, request } = setup({
      approvals,
      agent: { requireApproval: ['get_weather'] },
      scripts: {
        primary: [
          [{ type: 'tool_call', name: 'get_weather', args: { city: 'Oslo' }, id: 'call_w' }],
          [{ type: 'text', text: 'Mild.' }],
        ],
      },
    });
    const asked: string[] = [];
    const events = await collect(runAgent(request, capabilities), (e) => {
      if (e.type === 'tool.approval_requested') {
        asked.push(e.toolCallId);
        setTimeout(() => approvals.decide(e.approvalId, 'approved'), 0);
      }
    });
    expect(asked).toEqual(['call_w']);
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({ ok: true });
  });

  it('a denied approval becomes a failed tool result the model sees', async () => {
    const approvals = createApprovalGate();
    const { capabilities, store, request } = setup({
      approvals,
      scripts: {
        primary: [
          [{ type: 'tool_call', name: 'delete_everything', args: {}, id: 'call_x' }],
          [{ type: 'text', text: 'Okay, I will not.' }],
        ],
      },
    });
    const events = await collect(runAgent(request, capabilities), (e) => {
      if (e.type === 'tool.approval_requested')
        setTimeout(() => approvals.decide(e.approvalId, 'denied'), 0);
    });
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      ok: false,
      error: 'a person denied this call',
    });
    expect(store.messages.find((m) => m.message.role === 'tool')?.message).toMatchObject({
      isError: true,
    });
  });

  it('never lets a secret a tool read reach the stream', async () => {
    const { capabilities, request } = setup({
      scripts: {
        primary: [[{ type: 'tool_call', name: 'leak', args: {} }], [{ type: 'text', text: 'ok' }]],
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(JSON.stringify(events)).not.toContain('sk-weather-123456');
    expect(events.find((e) => e.type === 'tool.result')).toMatchObject({
      output: { key: 'value is [REDACTED]' },
    });
  });

  it('refuses an agent whose plugin is missing before any event', async () => {
    const { capabilities, request } = setup({ scripts: {} });
    const agent = defineAgent({ ...request.agent, plugins: [{ name: 'ghost' }] });
    await expect(collect(runAgent({ ...request, agent }, capabilities))).rejects.toThrow(
      /plugin ghost, which is not installed/,
    );
  });

  it("ends a model's stream that stops without step.finish with a typed error (the one guard)", async () => {
    const { capabilities, store, request } = setup({ scripts: {} });
    // A model not built on the adapters' attempts (a plugin's, say) that breaks the contract.
    capabilities.models = () => ({
      provider: 'scripted',
      model: 'broken',
      async *stream() {
        yield {
          type: 'step.start',
          stepIndex: 0,
          provider: 'scripted',
          model: 'broken',
          attempt: 1,
        };
        yield { type: 'text.start', partId: 'txt_1' };
        yield { type: 'text.delta', partId: 'txt_1', delta: 'Half an answ' };
        yield { type: 'text.end', partId: 'txt_1' };
      },
    });
    const events = await collect(runAgent(request, capabilities));
    expect(events.findLast((e) => e.type === 'step.finish')).toMatchObject({
      finishReason: { unified: 'error' },
      error: {
        code: 'internal',
        message: 'the scripted model ended its stream without step.finish',
      },
    });
    expect(events.at(-1)).toMatchObject({
      type: 'run.error',
      error: { code: 'internal' },
      partial: true,
    });
    expect(store.messages.at(-1)).toMatchObject({
      status: 'partial',
      message: { content: 'Half an answ' },
    });
  });

  it('ends with run.error when the store fails mid-run', async () => {
    const { capabilities, request } = setup({
      scripts: { primary: [[{ type: 'text', text: 'hi' }]] },
    });
    capabilities.store.finishRun = async () => {
      throw new Error('disk full');
    };
    const events = await collect(runAgent(request, capabilities));
    expect(events.at(-1)).toMatchObject({
      type: 'run.error',
      error: { code: 'internal', message: 'disk full' },
    });
  });
});

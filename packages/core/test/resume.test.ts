import { checkConformance, type ParleyEvent, reduceEvents, textOf } from '@parley/protocol';
import { createScriptedModel, type LanguageModel, type ScriptTurn } from '@parley/providers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createInMemoryRunStore,
  createPluginHost,
  defineAgent,
  definePlugin,
  defineTool,
  type RunCapabilities,
  resumePointOf,
  runAgent,
} from '../src/index.ts';

/*
 * Continuing a run another instance stopped executing (issue #21, failover): from its stored
 * log, the next instance tells the model the finished steps again, resets the step left open
 * (`step.reset`, reason failover), runs an idempotent tool whose result was never stored
 * again, and tells the model a non-idempotent one was interrupted instead of running it twice.
 */

function tools(counts: { charge: number; lookup: number }) {
  return definePlugin({
    name: 'shop',
    version: '1.0.0',
    contract: 1,
    core: '^0.1.0',
    tools: [
      defineTool({
        name: 'charge',
        description: 'Charges the card (never twice)',
        input: z.object({ cents: z.number() }),
        run: () => ++counts.charge,
      }),
      defineTool({
        name: 'lookup',
        description: 'Reads a price',
        input: z.object({ item: z.string() }),
        idempotent: true,
        run: () => ({ cents: 250, calls: ++counts.lookup }),
      }),
    ],
  });
}

/** A run's parts; `model` is the provider, shared by both instances (its part ids go on). */
function setup(
  script: ScriptTurn[],
  counts: { charge: number; lookup: number },
  model: LanguageModel = createScriptedModel({ model: 'm', script, maxRetries: 0 }),
) {
  const plugins = createPluginHost({ secrets: () => undefined });
  plugins.register(tools(counts));
  const store = createInMemoryRunStore();
  const seen: { messages: unknown[] }[] = [];
  const recording: LanguageModel = {
    ...model,
    stream: (request, options) => {
      seen.push({ messages: structuredClone(request.messages) });
      return model.stream(request, options);
    },
  };
  const capabilities: RunCapabilities = { models: () => recording, store, plugins };
  const request = {
    agent: defineAgent({
      name: 'shopper',
      instructions: 'Buy things.',
      model: { provider: 'scripted', model: 'm' },
      plugins: [{ name: 'shop' }],
      memory: { enabled: false },
    }),
    agentId: 'agt_1',
    workspaceId: 'ws_1',
    conversationId: 'conv_1',
    input: 'buy the book',
    runId: 'run_1',
  };
  return { capabilities, store, request, seen, model };
}

async function collect(stream: AsyncIterable<ParleyEvent>) {
  const events: ParleyEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const callBoth: ScriptTurn = [
  { type: 'tool_call', name: 'charge', args: { cents: 250 }, id: 'call_charge' },
  { type: 'tool_call', name: 'lookup', args: { item: 'book' }, id: 'call_lookup' },
];

describe('resuming a run from its stored log', () => {
  it('runs an idempotent call again, tells the model the other was interrupted, and goes on', async () => {
    const counts = { charge: 0, lookup: 0 };
    const first = setup([callBoth, [{ type: 'text', text: 'never reached' }]], counts);
    const whole = await collect(runAgent(first.request, first.capabilities));
    // The instance died right after the step finished: no tool result was stored.
    const cut = whole.slice(0, whole.findIndex((e) => e.type === 'step.finish') + 1);
    const point = resumePointOf(cut);
    expect(point.finishedSteps).toBe(1);
    expect(point.unresolved.map((c) => c.name)).toEqual(['charge', 'lookup']);
    const chargedBefore = counts.charge;
    const lookedUpBefore = counts.lookup;

    const next = setup([[{ type: 'text', text: 'Bought.' }]], counts);
    const continued = await collect(
      runAgent(
        { ...next.request, resume: { point, gapUpTo: point.lastSeq + 1_000 } },
        next.capabilities,
      ),
    );
    expect(continued[0]).toMatchObject({ type: 'run.gap', afterSeq: point.lastSeq });
    expect(checkConformance([...cut, ...continued])).toEqual([]);
    expect(counts.charge).toBe(chargedBefore);
    expect(counts.lookup).toBe(lookedUpBefore + 1);
    const results = continued.filter((e) => e.type === 'tool.result');
    expect(results).toEqual([
      expect.objectContaining({ toolCallId: 'call_lookup', ok: true }),
      expect.objectContaining({
        toolCallId: 'call_charge',
        ok: false,
        error: expect.stringMatching(/^interrupted/),
      }),
    ]);
    expect(textOf(reduceEvents(continued))).toBe('Bought.');
    // The model heard the first step and both results again, in the order of its calls.
    const messages = next.seen[0]!.messages as { role: string; toolCallId?: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
    expect(messages.slice(3).map((m) => m.toolCallId)).toEqual(['call_charge', 'call_lookup']);
  });

  it('resets a step cut mid-answer (failover) and numbers after the stored log without a gap on a handoff', async () => {
    const counts = { charge: 0, lookup: 0 };
    const first = setup(
      [[{ type: 'text', text: 'a long answer cut short' }], [{ type: 'text', text: 'Again.' }]],
      counts,
    );
    const whole = await collect(runAgent(first.request, first.capabilities));
    const cut = whole.slice(0, whole.findIndex((e) => e.type === 'text.delta') + 1);
    const point = resumePointOf(cut);
    expect(point.openStep).toBeDefined();
    expect(point.openParts).toHaveLength(1);
    const next = setup([], counts, first.model);
    const continued = await collect(
      runAgent({ ...next.request, resume: { point } }, next.capabilities),
    );
    expect(continued.map((e) => e.type).slice(0, 3)).toEqual([
      'text.end',
      'step.reset',
      'step.start',
    ]);
    expect(continued[0]!.seq).toBe(point.lastSeq + 1);
    expect(continued.find((e) => e.type === 'step.reset')).toMatchObject({ reason: 'failover' });
    expect(checkConformance([...cut, ...continued])).toEqual([]);
    expect(textOf(reduceEvents([...cut, ...continued]))).toBe('Again.');
  });

  it('says a finished log has nothing to continue', () => {
    const point = resumePointOf([
      {
        v: 1,
        runId: 'r',
        seq: 1,
        t: 0,
        type: 'run.start',
        agentId: 'a',
        startedAt: new Date().toISOString(),
      },
      { v: 1, runId: 'r', seq: 2, t: 1, type: 'run.abort', reason: 'cancelled' },
    ] as ParleyEvent[]);
    expect(point.ended).toBe(true);
  });
});

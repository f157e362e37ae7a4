import {
  createInMemoryMemoryStore,
  createInMemoryRunStore,
  createPluginHost,
  defineAgent,
  runAgent,
} from '@parley/core';
import { assertConformance, type ParleyEvent } from '@parley/protocol';
import { createScriptedModel } from '@parley/providers';
import { describe, expect, it } from 'vitest';
import { basicsPlugin, calculate } from '../src/index.ts';

describe('calculator', () => {
  const cases: [string, number][] = [
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['10 % 4', 2],
    ['sqrt(16) + max(1, 7, 3)', 11],
    ['round(pi * 100) / 100', 3.14],
    ['1.5e3 / 3', 500],
  ];
  for (const [expression, expected] of cases) {
    it(`${expression} = ${expected}`, () =>
      expect(calculate(expression)).toBeCloseTo(expected, 10));
  }
  const errors: [string, RegExp][] = [
    ['1 / 0', /division by zero/],
    ['1 +', /ends too early/],
    ['(1 + 2', /expected "\)"/],
    ['process.exit(1)', /unknown symbol/],
    ['2 2', /unexpected "2"/],
    ['1'.repeat(501), /longer than 500/],
  ];
  for (const [expression, message] of errors) {
    it(`refuses ${expression.slice(0, 20)}`, () =>
      expect(() => calculate(expression)).toThrow(message));
  }
});

describe('plugin-basics in a run', () => {
  it('loads in a host and runs its tools through the run loop', async () => {
    const plugins = createPluginHost();
    plugins.register(basicsPlugin);
    const memory = createInMemoryMemoryStore();
    const model = createScriptedModel({
      script: [
        [
          { type: 'tool_call', name: 'calculator', args: { expression: '6 * 7' }, id: 'c1' },
          { type: 'tool_call', name: 'current_time', args: { timeZone: 'Europe/Paris' }, id: 'c2' },
          { type: 'tool_call', name: 'remember', args: { fact: 'The user likes 42' }, id: 'c3' },
        ],
        [{ type: 'tool_call', name: 'recall', args: { query: 'likes 42' }, id: 'c4' }],
        [{ type: 'text', text: '42.' }],
      ],
    });
    const agent = defineAgent({
      name: 'basic',
      instructions: 'Use your tools.',
      model: { provider: 'scripted', model: 'echo' },
      plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
      memory: { autoExtract: false },
    });
    const events: ParleyEvent[] = [];
    for await (const event of runAgent(
      {
        agent,
        agentId: 'a',
        workspaceId: 'w',
        conversationId: 'c',
        userId: 'u',
        input: 'What is 6 times 7?',
      },
      { models: () => model, plugins, store: createInMemoryRunStore(), memory },
    )) {
      events.push(event);
    }
    assertConformance(events);
    const results = Object.fromEntries(
      events
        .filter((e) => e.type === 'tool.result')
        .map((e) => [(e as { toolCallId: string }).toolCallId, e]),
    );
    expect(results.c1).toMatchObject({ ok: true, output: { result: 42 } });
    expect(results.c2).toMatchObject({
      ok: true,
      output: { timeZone: 'Europe/Paris', iso: expect.stringMatching(/^\d{4}-/) },
    });
    expect(results.c3).toMatchObject({ ok: true, output: { remembered: 'The user likes 42' } });
    expect(results.c4).toMatchObject({ ok: true, output: [{ text: 'The user likes 42' }] });
    expect(events.filter((e) => e.type === 'memory.write')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('run.finish');
  });

  it('declares no secrets and no network', () => {
    expect(basicsPlugin.permissions).toEqual({ network: [], secrets: [] });
  });
});

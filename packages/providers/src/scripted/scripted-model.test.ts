import {
  assertConformance,
  createEventStamper,
  type ParleyEvent,
  reduceEvents,
  refusalOf,
  textOf,
  toolCallsOf,
} from '@parley/protocol';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { createModel } from '../create-model.ts';
import type { LanguageModel, ModelRequest } from '../model.ts';
import { type ScriptTurn, ScriptTurnSchema } from './script.ts';
import { createScriptedModel } from './scripted-model.ts';

const hello: ModelRequest = { messages: [{ role: 'user', content: 'hello there' }] };

async function collect(
  model: LanguageModel,
  request = hello,
  signal?: AbortSignal,
): Promise<ParleyEvent[]> {
  const stamper = createEventStamper({ runId: 'r' });
  const events: ParleyEvent[] = [];
  for await (const payload of model.stream(request, signal ? { signal } : {}))
    events.push(stamper.stamp(payload));
  assertConformance(events, { scope: 'steps' });
  return events;
}
const scripted = (...script: ScriptTurn[]) => createScriptedModel({ script });

describe('scripted model (not a language model)', () => {
  it('echoes the last user message and says it is scripted', async () => {
    const events = await collect(createModel({ provider: 'scripted', model: 'echo' }));
    expect(textOf(reduceEvents(events))).toBe('(scripted) hello there');
    expect(events[0]).toMatchObject({
      type: 'step.start',
      provider: 'scripted',
      model: 'echo',
      attempt: 1,
    });
    expect(events.filter((e) => e.type === 'text.delta').length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({ type: 'step.finish', finishReason: { unified: 'stop' } });
  });

  it('plays text, refusal, reasoning and a tool call with argument deltas', async () => {
    const events = await collect(
      scripted([
        { type: 'reasoning', text: 'thinking', signature: 'sig' },
        { type: 'text', text: 'Checking.' },
        { type: 'refusal', text: 'Not that part.' },
        { type: 'tool_call', name: 'get_weather', args: { city: 'Paris' }, id: 'call_1' },
      ]),
    );
    const state = reduceEvents(events);
    expect(textOf(state)).toBe('Checking.');
    expect(refusalOf(state)).toBe('Not that part.');
    expect(toolCallsOf(state)).toEqual([
      expect.objectContaining({
        toolCallId: 'call_1',
        args: { city: 'Paris' },
        argsText: '{"city":"Paris"}',
        status: 'ready',
      }),
    ]);
    expect(events.filter((e) => e.type === 'tool_call.delta')).toHaveLength(2);
    expect(state.steps[0]?.finishReason?.unified).toBe('tool-calls');
    expect(state.parts[0]).toMatchObject({ kind: 'reasoning', replay: { signature: 'sig' } });
  });

  it('reports broken argument JSON as tool_call.invalid', async () => {
    const events = await collect(scripted([{ type: 'tool_call', name: 'f', argsText: '{"a":' }]));
    expect(events.find((e) => e.type === 'tool_call.invalid')).toMatchObject({ argsText: '{"a":' });
  });

  it('retries a retryable error before the first token with step.reset and attempt + 1', async () => {
    const events = await collect(
      scripted(
        [{ type: 'error', code: 'overloaded', retryAfterMs: 5 }],
        [{ type: 'text', text: 'second try' }],
      ),
    );
    expect(events.map((e) => e.type)).toEqual([
      'step.start',
      'step.reset',
      'step.start',
      'text.start',
      'text.delta',
      'text.delta',
      'text.end',
      'usage',
      'step.finish',
    ]);
    expect(events[1]).toMatchObject({
      type: 'step.reset',
      reason: 'retry',
      error: { code: 'overloaded' },
    });
    expect(events[2]).toMatchObject({ type: 'step.start', attempt: 2 });
    expect(events.at(-1)).toMatchObject({ timing: { retries: 1 } });
    expect(textOf(reduceEvents(events))).toBe('second try');
  });

  it('gives up after maxRetries and does not retry non-retryable errors', async () => {
    const overloaded: ScriptTurn = [{ type: 'error', code: 'overloaded', retryAfterMs: 0 }];
    const limited = createScriptedModel({
      script: [overloaded, overloaded, overloaded],
      maxRetries: 1,
    });
    const events = await collect(limited);
    expect(events.filter((e) => e.type === 'step.start')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({
      finishReason: { unified: 'error' },
      error: { code: 'overloaded' },
    });

    const quota = await collect(
      scripted([{ type: 'error', code: 'quota_exhausted' }], [{ type: 'text', text: 'x' }]),
    );
    expect(quota.filter((e) => e.type === 'step.start')).toHaveLength(1);
    expect(quota.at(-1)).toMatchObject({ error: { code: 'quota_exhausted', retryable: false } });
  });

  it('keeps partial output and does not retry an error after content', async () => {
    const events = await collect(
      scripted(
        [
          { type: 'text', text: 'The answer' },
          { type: 'error', code: 'overloaded' },
        ],
        [{ type: 'text', text: 'never' }],
      ),
    );
    expect(events.filter((e) => e.type === 'step.start')).toHaveLength(1);
    expect(textOf(reduceEvents(events))).toBe('The answer');
    expect(events.at(-1)).toMatchObject({ error: { code: 'overloaded' } });
  });

  it('ends with a cancelled error when aborted mid-stream, closing open parts', async () => {
    const controller = new AbortController();
    const model = createScriptedModel({
      script: [[{ type: 'text', text: 'one two three four five' }]],
      chunkDelayMs: 20,
    });
    setTimeout(() => controller.abort(), 30);
    const events = await collect(model, hello, controller.signal);
    expect(events.at(-1)).toMatchObject({ type: 'step.finish', error: { code: 'cancelled' } });
    expect(events.some((e) => e.type === 'text.end')).toBe(true);
  });

  it('a hanging turn ends at once on abort', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    const events = await collect(
      scripted([{ type: 'tool_call', name: 'f', args: {} }, { type: 'hang' }]),
      hello,
      controller.signal,
    );
    expect(events.at(-1)).toMatchObject({ error: { code: 'cancelled' } });
  });

  it('says so when the script runs out', async () => {
    const model = scripted([{ type: 'text', text: 'only one' }]);
    await collect(model);
    const events = await collect(model);
    expect(events.at(-1)).toMatchObject({
      error: { code: 'internal', message: expect.stringContaining('no turn') },
    });
  });

  it('embeds deterministically with similar texts close together', async () => {
    const model = createScriptedModel();
    const { embeddings, dimensions } = await model.embed!([
      'the cat sat',
      'the cat sat!',
      'zzzz qqqq',
    ]);
    expect(dimensions).toBe(64);
    const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(cosine(embeddings[0]!, embeddings[1]!)).toBeGreaterThan(
      cosine(embeddings[0]!, embeddings[2]!),
    );
  });

  it('createModel rejects unknown providers with a message that lists the known ones', () => {
    expect(() => createModel({ provider: 'gemini' as never, model: 'x' })).toThrow(
      /use one of openai, openai-responses/,
    );
    expect(() => createModel({ provider: 'scripted', model: '' })).toThrow(/needs a model name/);
  });
});

describe('ScriptTurnSchema', () => {
  it('has the same shape as the ScriptTurn type, both ways', () => {
    expectTypeOf<z.infer<typeof ScriptTurnSchema>>().toEqualTypeOf<ScriptTurn>();
  });

  it('accepts every action kind and rejects unknown ones with the path', () => {
    const turn: ScriptTurn = [
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'hi', deltas: ['h', 'i'] },
      { type: 'tool_call', name: 'calc', args: { a: 1 } },
      { type: 'delay', ms: 5 },
      { type: 'error', code: 'overloaded' },
      { type: 'finish', reason: 'stop', usage: { inputTokens: 3 } },
    ];
    expect(ScriptTurnSchema.parse(turn)).toEqual(turn);
    const bad = ScriptTurnSchema.safeParse([{ type: 'text', text: 'x' }, { type: 'teleport' }]);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual([1, 'type']);
  });
});

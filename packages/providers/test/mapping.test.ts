import { readFileSync } from 'node:fs';
import { type ParleyEvent, reasoningOf, reduceEvents, textOf, toolCallsOf } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/create-model.ts';
import { collect, lastFinish } from './helpers/collect.ts';
import { LOCAL_FIXTURES, SHARED_FIXTURES } from './helpers/fixtures.ts';
import { type LoopbackServer, startLoopbackServer } from './helpers/loopback-server.ts';
import { type NetworkProvider, SSE_HEADERS } from './helpers/streams.ts';

/** The body the server sends next, written in two pieces with a short pause between. */
let body = '';
let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer(async (_request, response) => {
    response.writeHead(200, SSE_HEADERS);
    const cut = Math.floor(body.length / 2);
    response.write(body.slice(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 15));
    response.end(body.slice(cut));
  });
});
afterAll(() => server.close());

async function replay(provider: NetworkProvider, text: string): Promise<ParleyEvent[]> {
  body = text;
  const model = createModel({
    provider,
    model: 'm',
    apiKey: 'k',
    baseURL: server.baseURL,
    maxRetries: 0,
  });
  return collect(model);
}
const shared = (name: string) => readFileSync(new URL(name, SHARED_FIXTURES), 'utf8');
const local = (name: string) => readFileSync(new URL(name, LOCAL_FIXTURES), 'utf8');
const ofType = <T extends ParleyEvent['type']>(events: ParleyEvent[], type: T) =>
  events.filter((event): event is Extract<ParleyEvent, { type: T }> => event.type === type);
const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe('reasoning is kept for replay', () => {
  it('Anthropic: the thinking signature rides on reasoning.end', async () => {
    const events = await replay('anthropic', shared('anthropic-thinking.sse'));
    const [end] = ofType(events, 'reasoning.end');
    expect(end?.replay).toEqual({
      provider: 'anthropic',
      signature: expect.stringMatching(/^EvQBCkYICxgCKkAx/),
    });
    expect(ofType(events, 'reasoning.start')[0]?.visibility).toBe('full');
  });

  it('Anthropic: redacted thinking keeps its data and says it is redacted', async () => {
    const events = await replay('anthropic', local('anthropic-redacted-thinking-max-tokens.sse'));
    expect(ofType(events, 'reasoning.start')[0]?.visibility).toBe('redacted');
    expect(ofType(events, 'reasoning.end')[0]?.replay).toEqual({
      provider: 'anthropic',
      data: {
        type: 'redacted_thinking',
        data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP',
      },
    });
  });

  it('OpenRouter: reasoning_details verbatim, counted once, with the signature', async () => {
    const events = await replay('openrouter', shared('openrouter-reasoning-anthropic.sse'));
    expect(reasoningOf(reduceEvents(events))).toBe(
      'The user asks for the capital of France. That is Paris.',
    );
    const [end] = ofType(events, 'reasoning.end');
    expect(end?.replay?.provider).toBe('openrouter');
    expect(end?.replay?.signature).toMatch(/^EpUCCkYICBgCKkCf7Qm1/);
    expect(end?.replay?.data).toEqual([
      { type: 'reasoning.text', text: 'The user', format: 'anthropic-claude-v1', index: 0 },
      {
        type: 'reasoning.text',
        text: ' asks for the capital',
        format: 'anthropic-claude-v1',
        index: 0,
      },
      {
        type: 'reasoning.text',
        text: ' of France. That is Paris.',
        format: 'anthropic-claude-v1',
        index: 0,
      },
      {
        type: 'reasoning.text',
        signature: expect.stringMatching(/^EpUC/),
        format: 'anthropic-claude-v1',
        index: 0,
      },
    ]);
  });

  it('OpenRouter: an encrypted detail on the tool-call chunk joins the reasoning it belongs to', async () => {
    const events = await replay(
      'openrouter',
      local('openrouter-reasoning-encrypted-tool-call.sse'),
    );
    expect(ofType(events, 'reasoning.start')[0]?.visibility).toBe('summary');
    const [end] = ofType(events, 'reasoning.end');
    const details = end?.replay?.data as { type: string }[];
    expect(details.map((detail) => detail.type)).toEqual([
      'reasoning.summary',
      'reasoning.summary',
      'reasoning.encrypted',
    ]);
    // The reasoning ends before the tool call starts.
    const types = events.map((event) => event.type);
    expect(types.indexOf('reasoning.end')).toBeLessThan(types.indexOf('tool_call.start'));
  });

  it('Responses: the reasoning item (with encrypted_content) is the replay; the call id is call_id', async () => {
    const events = await replay('openai-responses', shared('openai-responses-function-call.sse'));
    expect(ofType(events, 'reasoning.start')[0]?.visibility).toBe('summary');
    expect(ofType(events, 'reasoning.end')[0]?.replay).toMatchObject({
      provider: 'openai-responses',
      data: { id: expect.stringMatching(/^rs_/), encrypted_content: expect.any(String) },
    });
    expect(toolCallsOf(reduceEvents(events))[0]?.toolCallId).toBe('call_AB6AaRZ1FYZB2RwS6A5vbdqn');
  });
});

describe('timing', () => {
  it('keep-alives and empty role chunks never count as the first token', async () => {
    const events = await replay(
      'openrouter',
      `: OPENROUTER PROCESSING\n\n${chunk({ role: 'assistant', content: '' })}: OPENROUTER PROCESSING\n\n${chunk({ content: '' }, 'stop')}data: [DONE]\n\n`,
    );
    const { timing } = lastFinish(events);
    expect(timing.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(timing.ttftMs).toBeUndefined();
    expect(timing.ttftTextMs).toBeUndefined();

    const anthropic = await replay('anthropic', shared('anthropic-refusal-no-content.sse'));
    expect(lastFinish(anthropic).timing.ttftMs).toBeUndefined();
  });

  it('reports ttfb, ttft, text ttft and tokens per second for a streamed answer', async () => {
    const events = await replay('openai', shared('openai-chat-text-include-usage.sse'));
    const { timing } = lastFinish(events);
    expect(timing).toMatchObject({
      ttfbMs: expect.any(Number),
      ttftMs: expect.any(Number),
      ttftTextMs: expect.any(Number),
      outputTokensPerSec: expect.any(Number),
      retries: 0,
    });
    expect(timing.ttftMs!).toBeGreaterThanOrEqual(timing.ttfbMs!);
    expect(timing.durationMs).toBeGreaterThanOrEqual(timing.ttftMs!);
  });

  it('a refusal counts as the first token but not as the first text', async () => {
    const events = await replay('openai', shared('openai-chat-refusal.sse'));
    const { timing } = lastFinish(events);
    expect(timing.ttftMs).toEqual(expect.any(Number));
    expect(timing.ttftTextMs).toBeUndefined();
  });
});

describe('Chat Completions tool-call accumulation', () => {
  it('completes a call at the finish, not when its text first parses', async () => {
    const call = (args: string, extra = {}) =>
      chunk({ tool_calls: [{ index: 0, function: { arguments: args }, ...extra }] });
    const events = await replay(
      'openai',
      call('1', { id: 'call_n', type: 'function', function: { name: 'count', arguments: '1' } }) +
        call('2') +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    );
    expect(ofType(events, 'tool_call.complete')).toEqual([
      expect.objectContaining({ toolCallId: 'call_n', args: 12, argsText: '12' }),
    ]);
  });

  it('a new id at a used index is a new call; a chunk without index or id joins the one open call', async () => {
    const events = await replay(
      'openai-compatible',
      chunk({
        tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":' } }],
      }) +
        chunk({ tool_calls: [{ function: { arguments: '1}' } }] }) +
        chunk({ tool_calls: [{ index: 0, id: 'b', function: { name: 'g', arguments: '{}' } }] }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    );
    expect(
      toolCallsOf(reduceEvents(events)).map((call) => [call.toolCallId, call.name, call.args]),
    ).toEqual([
      ['a', 'f', { x: 1 }],
      ['b', 'g', {}],
    ]);
  });

  it('a chunk without index or id while two calls are open is an invalid response', async () => {
    const events = await replay(
      'openai-compatible',
      chunk({
        tool_calls: [
          { index: 0, id: 'a', function: { name: 'f', arguments: '' } },
          { index: 1, id: 'b', function: { name: 'g', arguments: '' } },
        ],
      }) + chunk({ tool_calls: [{ function: { arguments: '{}' } }] }),
    );
    expect(lastFinish(events).error).toMatchObject({ code: 'invalid_response' });
    expect(toolCallsOf(reduceEvents(events)).every((call) => call.status === 'invalid')).toBe(true);
  });

  it('a call whose name never arrives is reported invalid, not dropped', async () => {
    const events = await replay(
      'openai-compatible',
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { arguments: '{}' } }] }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    );
    expect(ofType(events, 'tool_call.invalid')[0]).toMatchObject({
      toolCallId: 'a',
      reason: expect.stringContaining('no tool name'),
    });
  });

  it('arguments sent as an object (some servers) become their JSON text', async () => {
    const events = await replay(
      'openai-compatible',
      chunk({
        tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: { city: 'Paris' } } }],
      }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    );
    expect(toolCallsOf(reduceEvents(events))[0]).toMatchObject({
      args: { city: 'Paris' },
      argsText: '{"city":"Paris"}',
    });
  });

  it('content sent as an array of typed parts (Mistral) streams its text parts', async () => {
    const events = await replay(
      'openai-compatible',
      chunk({
        content: [
          { type: 'thinking', thinking: [] },
          { type: 'text', text: 'Bonjour' },
        ],
      }) +
        chunk({ content: '!' }, 'stop') +
        'data: [DONE]\n\n',
    );
    expect(textOf(reduceEvents(events))).toBe('Bonjour!');
  });

  it('text after a finished reasoning part, and the refusal, stay in their channels', async () => {
    const events = await replay(
      'openai-compatible',
      chunk({ reasoning: 'think' }) +
        chunk({ content: 'answer' }) +
        chunk({ refusal: 'not that' }) +
        chunk({}, 'stop') +
        'data: [DONE]\n\n',
    );
    const state = reduceEvents(events);
    expect([reasoningOf(state), textOf(state)]).toEqual(['think', 'answer']);
    expect(state.parts.map((part) => part.kind)).toEqual(['reasoning', 'text', 'refusal']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/create-model.ts';
import type { ModelRequest, ModelSettings } from '../src/model.ts';
import { collect, lastFinish } from './helpers/collect.ts';
import {
  type LoopbackServer,
  type ReceivedRequest,
  startLoopbackServer,
} from './helpers/loopback-server.ts';
import {
  NETWORK_PROVIDERS,
  type NetworkProvider,
  SSE_HEADERS,
  streamFor,
  streamPath,
} from './helpers/streams.ts';

/** A conversation that exercises every message kind the adapters convert. */
const conversation: ModelRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is on this card, and the weather there?' },
        { type: 'image', url: 'https://example.com/card.png' },
        { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
      ],
    },
    {
      role: 'assistant',
      content: 'Checking.',
      toolCalls: [{ id: 'call_1', name: 'get_weather', args: { city: 'Paris' } }],
      reasoning: [
        { text: 'Need the weather.', replay: { provider: 'anthropic', signature: 'sig-1' } },
        {
          text: 'Need the weather.',
          replay: {
            provider: 'openrouter',
            data: [{ type: 'reasoning.text', text: 'Need the weather.', signature: 'sig-or' }],
          },
        },
        {
          text: 'Need the weather.',
          replay: {
            provider: 'openai-responses',
            data: { id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'enc-1' },
          },
        },
      ],
    },
    { role: 'tool', toolCallId: 'call_1', name: 'get_weather', content: '{"tempC":14}' },
    { role: 'user', content: 'Thanks. Anything else?' },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ],
  toolChoice: 'required',
  temperature: 0.2,
  maxOutputTokens: 300,
};

let server: LoopbackServer;
let lastRequest: ReceivedRequest | undefined;
let answerFor: NetworkProvider = 'openai';
beforeAll(async () => {
  server = await startLoopbackServer((request, response) => {
    lastRequest = request;
    response.writeHead(200, SSE_HEADERS);
    const { start, end } = streamFor(answerFor);
    response.end(start + end);
  });
});
afterAll(() => server.close());

async function send(
  provider: NetworkProvider,
  settings: Partial<ModelSettings> = {},
  request = conversation,
) {
  answerFor = provider;
  const model = createModel({
    provider,
    model: 'model-x',
    apiKey: 'sk-test',
    baseURL: `${server.baseURL}/`,
    ...settings,
  });
  const events = await collect(model, request);
  expect(lastFinish(events).finishReason.unified).toBe('stop');
  return lastRequest!;
}

describe('every provider sends the documented request', () => {
  it.each(NETWORK_PROVIDERS)('%s posts JSON to its streaming endpoint', async (provider) => {
    const request = await send(provider);
    expect(request.method).toBe('POST');
    expect(request.path).toBe(streamPath(provider));
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('text/event-stream');
    expect(request.json).toMatchObject({ model: 'model-x', stream: true });
  });

  it('OpenAI Chat: bearer auth, include_usage, max_completion_tokens, tool calls and results', async () => {
    const request = await send('openai', {
      headers: { 'OpenAI-Organization': 'org-1', Authorization: 'Bearer override' },
    });
    expect(request.headers.authorization).toBe('Bearer override');
    expect(request.headers['openai-organization']).toBe('org-1');
    expect(request.json).toEqual({
      model: 'model-x',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is on this card, and the weather there?' },
            { type: 'image_url', image_url: { url: 'https://example.com/card.png' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"tempC":14}' },
        { role: 'user', content: 'Thanks. Anything else?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city',
            parameters: conversation.tools![0]!.parameters,
          },
        },
      ],
      tool_choice: 'required',
      temperature: 0.2,
      max_completion_tokens: 300,
    });
  });

  it('OpenAI Chat: reasoning effort and a named tool choice', async () => {
    const request = await send(
      'openai',
      {},
      {
        ...conversation,
        toolChoice: { name: 'get_weather' },
        reasoning: { effort: 'high' },
      },
    );
    expect(request.json).toMatchObject({
      reasoning_effort: 'high',
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
  });

  it('OpenAI Responses: input items with function_call / function_call_output by call_id', async () => {
    const request = await send(
      'openai-responses',
      {},
      { ...conversation, reasoning: { effort: 'low' } },
    );
    expect(request.headers.authorization).toBe('Bearer sk-test');
    const body = request.json as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'model-x',
      stream: true,
      store: false,
      max_output_tokens: 300,
      temperature: 0.2,
      tool_choice: 'required',
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      tools: [
        {
          type: 'function',
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: conversation.tools![0]!.parameters,
        },
      ],
    });
    expect(body).not.toHaveProperty('stream_options');
    expect(body.input).toEqual([
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is on this card, and the weather there?' },
          { type: 'input_image', image_url: 'https://example.com/card.png' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
        ],
      },
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'enc-1' },
      { role: 'assistant', content: 'Checking.' },
      {
        type: 'function_call',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
      { type: 'function_call_output', call_id: 'call_1', output: '{"tempC":14}' },
      { role: 'user', content: 'Thanks. Anything else?' },
    ]);
  });

  it('Anthropic: x-api-key + anthropic-version, system lifted, tool_result in a user turn, thinking replayed', async () => {
    const request = await send(
      'anthropic',
      {},
      {
        ...conversation,
        reasoning: { budgetTokens: 2048 },
      },
    );
    expect(request.headers['x-api-key']).toBe('sk-test');
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.json).toEqual({
      model: 'model-x',
      // The 300 answer tokens come on top of the 2048 thinking budget.
      max_tokens: 2348,
      stream: true,
      system: 'You are terse.',
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is on this card, and the weather there?' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/card.png' } },
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
            },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Need the weather.', signature: 'sig-1' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'call_1',
              content: [{ type: 'text', text: '{"tempC":14}' }],
            },
            { type: 'text', text: 'Thanks. Anything else?' },
          ],
        },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather for a city',
          input_schema: conversation.tools![0]!.parameters,
        },
      ],
      tool_choice: { type: 'any' },
    });
  });

  it('Anthropic: max_tokens defaults to 4096 and temperature passes when not thinking', async () => {
    const request = await send(
      'anthropic',
      {},
      {
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.5,
      },
    );
    expect(request.json).toMatchObject({ max_tokens: 4096, temperature: 0.5 });
    expect(request.json).not.toHaveProperty('system');
  });

  it('OpenRouter: bearer auth, attribution headers, reasoning_details replayed, unified reasoning', async () => {
    const request = await send(
      'openrouter',
      {
        appUrl: 'https://example.org/my-agent',
        appTitle: 'My Agent',
      },
      { ...conversation, reasoning: { effort: 'medium' } },
    );
    expect(request.headers.authorization).toBe('Bearer sk-test');
    expect(request.headers['http-referer']).toBe('https://example.org/my-agent');
    expect(request.headers['x-title']).toBe('My Agent');
    expect(request.headers['x-openrouter-title']).toBe('My Agent');
    const body = request.json as { messages: Record<string, unknown>[] };
    expect(body).toMatchObject({
      stream_options: { include_usage: true },
      max_tokens: 300,
      reasoning: { effort: 'medium' },
    });
    expect(body.messages[2]).toMatchObject({
      role: 'assistant',
      reasoning_details: [
        { type: 'reasoning.text', text: 'Need the weather.', signature: 'sig-or' },
      ],
    });
  });

  it('OpenRouter: the title defaults to Parley and no referer is invented', async () => {
    const request = await send('openrouter');
    expect(request.headers['x-title']).toBe('Parley');
    expect(request.headers['x-openrouter-title']).toBe('Parley');
    expect(request.headers['http-referer']).toBeUndefined();
  });

  it('OpenAI-compatible: no auth header without an apiKey, max_tokens, bearer when given', async () => {
    const request = await send('openai-compatible', { apiKey: undefined });
    expect(request.headers.authorization).toBeUndefined();
    expect(request.json).toMatchObject({
      max_tokens: 300,
      stream_options: { include_usage: true },
    });
    expect(request.json).not.toHaveProperty('max_completion_tokens');
    const withKey = await send('openai-compatible', { apiKey: 'local-key' });
    expect(withKey.headers.authorization).toBe('Bearer local-key');
  });
});

import type { ProviderName } from '../../src/model.ts';

/** The network providers, each with the wire family its adapter reads. */
export const NETWORK_PROVIDERS = [
  'openai',
  'openai-responses',
  'anthropic',
  'openrouter',
  'openai-compatible',
] as const satisfies readonly ProviderName[];
export type NetworkProvider = (typeof NETWORK_PROVIDERS)[number];

const frame = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

/** Minimal, documented-shape stream bodies: a start that says "Hello", and its normal end. */
const chat = {
  start: frame({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }],
  }),
  end:
    frame({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    }) +
    frame({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    }) +
    'data: [DONE]\n\n',
};

const anthropicEvent = (type: string, fields: Record<string, unknown> = {}) =>
  frame({ type, ...fields }, type);
const anthropic = {
  start:
    anthropicEvent('message_start', {
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        content: [],
        model: 'claude-test',
        usage: { input_tokens: 5, output_tokens: 1 },
      },
    }) +
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
    anthropicEvent('ping') +
    anthropicEvent('content_block_delta', {
      index: 0,
      delta: { type: 'text_delta', text: 'Hello' },
    }),
  end:
    anthropicEvent('content_block_stop', { index: 0 }) +
    anthropicEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 2 },
    }) +
    anthropicEvent('message_stop'),
};

const responsesEvent = (type: string, fields: Record<string, unknown> = {}) =>
  frame({ type, ...fields }, type);
const response = (status: string) => ({
  id: 'resp_1',
  object: 'response',
  status,
  model: 'gpt-test',
  output: [],
  usage:
    status === 'completed'
      ? { input_tokens: 5, output_tokens: 1, output_tokens_details: { reasoning_tokens: 0 } }
      : null,
});
const responses = {
  start:
    responsesEvent('response.created', { sequence_number: 0, response: response('in_progress') }) +
    responsesEvent('response.output_item.added', {
      sequence_number: 1,
      output_index: 0,
      item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    }) +
    responsesEvent('response.output_text.delta', {
      sequence_number: 2,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: 'Hello',
    }),
  end:
    responsesEvent('response.output_text.done', {
      sequence_number: 3,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      text: 'Hello',
    }) +
    responsesEvent('response.completed', { sequence_number: 4, response: response('completed') }),
};

export function streamFor(provider: NetworkProvider): { start: string; end: string } {
  if (provider === 'anthropic') return anthropic;
  if (provider === 'openai-responses') return responses;
  return chat;
}

/** The endpoint path each provider posts a streamed call to (under `/v1`). */
export function streamPath(provider: NetworkProvider): string {
  if (provider === 'anthropic') return '/v1/messages';
  if (provider === 'openai-responses') return '/v1/responses';
  return '/v1/chat/completions';
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

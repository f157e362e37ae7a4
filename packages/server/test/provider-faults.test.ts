import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  checkConformance,
  type ParleyEvent,
  readParleyEvents,
  reduceEvents,
  textOf,
} from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './support/harness.ts';

/*
 * Issue #30 (faults): a provider that fails while a run streams ends the run with one typed
 * terminal and the text it streamed kept exactly — in the stream and in the conversation. A
 * local OpenAI-compatible stand-in plays each failure (the agent's model name picks it): a
 * stall before the first byte and one mid-stream (with the agent's small model.timeouts), a
 * socket closed mid-stream, a 500 inside the stream, a 429 with retry-after on the next call.
 */

type Behaviour = (req: IncomingMessage, res: ServerResponse, messages: unknown[]) => void;

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const hello = `${chunk({ role: 'assistant', content: '' })}${chunk({ content: 'Hello' })}${chunk({ content: ' world' })}`;
const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });

const behaviours: Record<string, Behaviour> = {
  'stall-first-byte': () => {},
  'stall-mid-stream': (_req, res) => {
    sse(res);
    res.write(hello);
  },
  'close-mid-stream': (_req, res) => {
    sse(res);
    res.write(hello);
    setTimeout(() => res.socket?.destroy(), 20);
  },
  'error-500-mid-stream': (_req, res) => {
    sse(res);
    res.end(
      `${hello}data: ${JSON.stringify({ error: { code: 500, message: 'Internal server error' } })}\n\n`,
    );
  },
  // The first call asks for the calculator after a few words; the next is refused for 2 min.
  'retry-after-429': (_req, res, messages) => {
    if (messages.some((m) => (m as { role: string }).role === 'tool')) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '120' });
      res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests' } }));
      return;
    }
    sse(res);
    const call = { index: 0, id: 'call_1', type: 'function' };
    res.end(
      `${chunk({ role: 'assistant', content: 'Let me compute. ' })}${chunk({ tool_calls: [{ ...call, function: { name: 'calculator', arguments: '' } }] })}${chunk({ tool_calls: [{ index: 0, function: { arguments: '{"expression":"6*7"}' } }] })}${chunk({}, 'tool_calls')}data: [DONE]\n\n`,
    );
  },
};

let provider: Server;
let baseURL = '';
let server: TestServer;

beforeAll(async () => {
  provider = createServer((req, res) => {
    let body = '';
    req.on('data', (part: Buffer) => {
      body += part.toString();
    });
    req.on('end', () => {
      const parsed = JSON.parse(body) as { model: string; messages: unknown[] };
      behaviours[parsed.model]!(req, res, parsed.messages);
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  const address = provider.address();
  baseURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
  server = await startTestServer({ engine: 'postgres' });
}, 120_000);

afterAll(async () => {
  provider.closeAllConnections();
  await new Promise((resolve) => provider.close(resolve));
  await server?.close();
});

/** Deploys an agent on one behaviour, runs it, and returns its events and stored messages. */
async function runAgainst(model: string, timeouts?: Record<string, number>) {
  const call = client(server.url, server.token);
  const agents = `/v1/workspaces/${server.workspaceId}/agents`;
  const deployed = await call('POST', agents, {
    definition: {
      name: model,
      instructions: 'You are a test agent.',
      model: { provider: 'openai-compatible', model, baseURL, ...(timeouts ? { timeouts } : {}) },
      plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
      memory: { enabled: false, autoExtract: false },
    },
    deploy: true,
  });
  expect(deployed.status).toBe(201);
  const response = await call('POST', `${agents}/${model}/runs`, { input: 'Say hello' });
  expect(response.status).toBe(200);
  const events: ParleyEvent[] = [];
  for await (const event of readParleyEvents(response.body!)) events.push(event);
  expect(checkConformance(events)).toEqual([]);
  const conversationId = (events[0] as ParleyEvent & { conversationId: string }).conversationId;
  const messages = await server.store.withWorkspace(server.workspaceId, (ws) =>
    ws.messages.list(conversationId),
  );
  return { events, messages, terminal: events.at(-1)! };
}

describe('model.timeouts in agent.yaml', () => {
  it('refuses a limit that is not a positive number of seconds, at its path', async () => {
    const response = await client(server.url, server.token)(
      'POST',
      `/v1/workspaces/${server.workspaceId}/agents`,
      {
        definition: {
          name: 'bad-timeouts',
          instructions: 'You are a test agent.',
          model: {
            provider: 'openai-compatible',
            model: 'm',
            baseURL,
            timeouts: { firstByteSeconds: 0 },
          },
        },
      },
    );
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain('model.timeouts.firstByteSeconds');
  });
});

describe('a provider failing while a run streams', () => {
  it('a stall before the first byte ends at model.timeouts.firstByteSeconds with a typed run.error', async () => {
    const { terminal, messages } = await runAgainst('stall-first-byte', {
      firstByteSeconds: 0.5,
    });
    expect(terminal).toMatchObject({
      type: 'run.error',
      partial: false,
      error: {
        code: 'timeout',
        message: expect.stringContaining('no first byte within 0.5 s'),
      },
    });
    expect(messages.map((m) => m.role)).toEqual(['user']);
  });

  it('a stall mid-stream ends at model.timeouts.stallSeconds, the text so far kept', async () => {
    const { terminal, events, messages } = await runAgainst('stall-mid-stream', {
      stallSeconds: 0.5,
    });
    expect(terminal).toMatchObject({
      type: 'run.error',
      partial: true,
      error: { code: 'timeout', message: expect.stringContaining('nothing for 0.5 s mid-stream') },
    });
    expect(textOf(reduceEvents(events))).toBe('Hello world');
    expect(messages.at(-1)).toMatchObject({
      role: 'assistant',
      content: [{ kind: 'text', text: 'Hello world' }],
      metadata: { status: 'partial' },
    });
  });

  it('a socket closed mid-stream ends with truncated_stream, the text so far kept', async () => {
    const { terminal, events, messages } = await runAgainst('close-mid-stream');
    expect(terminal).toMatchObject({
      type: 'run.error',
      partial: true,
      error: { code: 'truncated_stream' },
    });
    expect(textOf(reduceEvents(events))).toBe('Hello world');
    expect(messages.at(-1)).toMatchObject({
      content: [{ kind: 'text', text: 'Hello world' }],
      metadata: { status: 'partial' },
    });
  });

  it('a 500 inside the stream ends with provider_error, the text so far kept', async () => {
    const { terminal, events, messages } = await runAgainst('error-500-mid-stream');
    expect(terminal).toMatchObject({
      type: 'run.error',
      partial: true,
      error: { code: 'provider_error', message: expect.stringContaining('Internal server error') },
    });
    expect(textOf(reduceEvents(events))).toBe('Hello world');
    expect(messages.at(-1)).toMatchObject({
      content: [{ kind: 'text', text: 'Hello world' }],
      metadata: { status: 'partial' },
    });
  });

  it('a 429 with retry-after past the retry cap ends with rate_limited and its wait, the text kept', async () => {
    const { terminal, events, messages } = await runAgainst('retry-after-429');
    expect(terminal).toMatchObject({
      type: 'run.error',
      partial: true,
      error: { code: 'rate_limited', retryAfterMs: 120_000 },
    });
    expect(textOf(reduceEvents(events))).toBe('Let me compute. ');
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[1]!.content).toContainEqual({ kind: 'text', text: 'Let me compute. ' });
  });
});

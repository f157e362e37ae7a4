import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import * as aiV5 from 'ai-v5';
import * as aiV6 from 'ai-v6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientsFixture, startClientsFixture } from './support/clients.ts';

/*
 * The AI SDK's useChat protocol (UI message stream v1) through the `ai` package's own
 * transport and reader, over real sockets: text, a tool call, an error, resume mid-answer,
 * 204 when nothing runs, every supported `ai` major, and who may use it.
 */

let f: ClientsFixture;
beforeAll(async () => {
  f = await startClientsFixture();
});
afterAll(async () => {
  await f?.server.close();
});

const chatUrl = (agent: string) =>
  `${f.server.url}/v1/workspaces/${f.workspaceId}/agents/${agent}/chat`;
const userMessage = (text: string, id = `m-${Math.random()}`): UIMessage => ({
  id,
  role: 'user',
  parts: [{ type: 'text', text }],
});
const transportFor = (agent: string, token = f.token) =>
  new DefaultChatTransport<UIMessage>({
    api: chatUrl(agent),
    headers: { authorization: `Bearer ${token}` },
  });

async function lastMessage(stream: ReadableStream<never>, onError?: (e: unknown) => void) {
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream<UIMessage>({
    stream,
    ...(onError ? { onError } : {}),
  }))
    last = message;
  return last!;
}

const send = (agent: string, chatId: string, text: string, signal?: AbortSignal, token?: string) =>
  transportFor(agent, token).sendMessages({
    chatId,
    messages: [userMessage(text)],
    trigger: 'submit-message',
    messageId: undefined,
    abortSignal: signal,
  });

describe('AI SDK useChat (UI message stream v1)', () => {
  it('streams text and a tool call that readUIMessageStream folds into one message; the chat id keeps one conversation', async () => {
    const message = await lastMessage((await send('calc', 'chat-calc', 'what is 6 * 7?')) as never);
    expect(message.role).toBe('assistant');
    const parts = message.parts.filter((p) => p.type !== 'step-start');
    expect(parts).toMatchObject([
      { type: 'text', text: 'Let me compute that.', state: 'done' },
      {
        type: 'tool-calculator',
        toolCallId: 'call_calc',
        state: 'output-available',
        input: { expression: '6 * 7' },
        output: { expression: '6 * 7', result: 42 },
      },
      { type: 'text', text: 'It is 42.', state: 'done' },
    ]);
    expect(message.parts.filter((p) => p.type === 'step-start')).toHaveLength(2);
    const runId = message.id;
    expect(message.metadata).toMatchObject({ runId });

    // The next message of the chat is a run in the same conversation; another chat is not.
    const again = await lastMessage((await send('calc', 'chat-calc', 'and again?')) as never);
    const other = await lastMessage((await send('calc', 'chat-other', 'hello')) as never);
    const runs = await f.runs();
    const byId = (id: string) => runs.find((r) => r.id === id)!;
    expect(byId(runId)).toMatchObject({ status: 'succeeded' });
    expect(byId(runId).ttftMs).toBeGreaterThanOrEqual(0);
    expect(byId(again.id).conversationId).toBe(byId(runId).conversationId);
    expect(byId(other.id).conversationId).not.toBe(byId(runId).conversationId);
  });

  it("reads a chat's history for its later turns, not for its first", async () => {
    const turn = (chatId: string, messages: UIMessage[]) =>
      transportFor('calc').sendMessages({
        chatId,
        messages,
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: undefined,
      });
    const first = userMessage('what is 6 * 7?');
    const answer = await lastMessage((await turn('chat-history', [first])) as never);
    const next = userMessage('and 7 * 8?');
    const later = await lastMessage((await turn('chat-history', [first, answer, next])) as never);
    const alone = await lastMessage((await turn('chat-alone', [next])) as never);
    const usage = async (runId: string) => {
      const res = await fetch(`${f.server.url}/v1/runs/${runId}`, {
        headers: { authorization: `Bearer ${f.token}` },
      });
      return ((await res.json()) as { usage: { inputTokens: number } }).usage.inputTokens;
    };
    // The same question, with the chat's first turn before it and without: the model of the
    // later turn was sent more (the stored history), the lone one only its question.
    expect(await usage(later.id)).toBeGreaterThan(await usage(alone.id));
  });

  it('answers with the v1 header and frames ending in [DONE]; a failed run is an error part', async () => {
    const res = await fetch(chatUrl('broken'), {
      method: 'POST',
      headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'chat-broken',
        messages: [userMessage('hi')],
        trigger: 'submit-message',
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = text
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)) as { type: string; errorText?: string });
    expect(chunks[0]).toMatchObject({ type: 'start' });
    expect(chunks.map((c) => c.type)).toContain('error');

    // Through the SDK: the error reaches onError with the run's message.
    const errors: unknown[] = [];
    await lastMessage((await send('broken', 'chat-broken-2', 'hi')) as never, (e) =>
      errors.push(e),
    );
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toMatch(/credit/);
    const runs = await f.runs();
    expect(runs.filter((r) => r.status === 'failed').length).toBeGreaterThanOrEqual(2);
  });

  it('resumes the active stream mid-answer (GET …/chat/:chatId/stream), then 204 once it ended', async () => {
    const transport = transportFor('slow');
    const first = new AbortController();
    const stream = (await send('slow', 'chat-slow', 'talk', first.signal)) as ReadableStream<{
      type: string;
    }>;
    // Read until some text arrived, then drop the connection (a reload).
    const reader = stream.getReader();
    let messageId = '';
    for (;;) {
      const { value } = await reader.read();
      if (value?.type === 'start')
        messageId = (value as unknown as { messageId: string }).messageId;
      if (value?.type === 'text-delta') break;
    }
    first.abort();
    await reader.cancel().catch(() => {});

    const resumed = await transport.reconnectToStream({ chatId: 'chat-slow' });
    expect(resumed).not.toBeNull();
    const message = await lastMessage(resumed as never);
    expect(message.id).toBe(messageId);
    const text = message.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
    expect(text).toBe(Array.from({ length: 30 }, (_, i) => `w${i} `).join(''));
    expect(await transport.reconnectToStream({ chatId: 'chat-slow' })).toBeNull();
    const run = (await f.runs()).find((r) => r.id === messageId)!;
    expect(run.status).toBe('succeeded');
    expect(run.ttftMs).toBeGreaterThanOrEqual(0);
  });

  it('answers 204 for a chat with nothing running, or never used', async () => {
    const res = await fetch(`${chatUrl('calc')}/never-used/stream`, {
      headers: { authorization: `Bearer ${f.token}` },
    });
    expect(res.status).toBe(204);
    expect(await transportFor('calc').reconnectToStream({ chatId: 'chat-calc' })).toBeNull();
  });

  it('a viewer token cannot run; a token of another workspace sees none of its agents', async () => {
    await expect(send('calc', 'chat-viewer', 'hi', undefined, f.viewerToken)).rejects.toThrow(
      /runs:create/,
    );
    await expect(send('calc', 'chat-x', 'hi', undefined, f.strangerToken)).rejects.toThrow(
      /not found/i,
    );
    const foreign = await fetch(`${chatUrl('calc')}/chat-calc/stream`, {
      headers: { authorization: `Bearer ${f.strangerToken}` },
    });
    expect(foreign.status).toBe(404);
  });

  it('refuses a request without a user message with text (problem+json), not one with a long earlier answer', async () => {
    const res = await fetch(chatUrl('calc'), {
      method: 'POST',
      headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'c', messages: [{ id: 'a', role: 'assistant', parts: [] }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('request.invalid');

    // Earlier answers are not read, so a long one is no reason to refuse the request.
    const long = await fetch(chatUrl('calc'), {
      method: 'POST',
      headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'c-long',
        messages: [
          userMessage('first'),
          { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: 'x'.repeat(150_000) }] },
          userMessage('6 * 7?'),
        ],
      }),
    });
    expect(long.status).toBe(200);
    expect(await long.text()).toContain('"type":"finish","finishReason":"stop"');
  });

  /** What the test uses of an `ai` major (their types differ in details it does not use). */
  interface AiMajor {
    DefaultChatTransport: new (options: {
      api: string;
      headers: Record<string, string>;
    }) => {
      sendMessages(options: {
        chatId: string;
        messages: UIMessage[];
        trigger: 'submit-message';
        messageId: undefined;
        abortSignal: undefined;
      }): Promise<ReadableStream<unknown>>;
    };
    readUIMessageStream(options: { stream: ReadableStream<unknown> }): AsyncIterable<unknown>;
  }
  describe.each([
    ['ai@5', aiV5 as unknown as AiMajor],
    ['ai@6', aiV6 as unknown as AiMajor],
  ] as const)('%s', (_name, sdk) => {
    it('reads a tool-calling answer through its own transport and reader', async () => {
      const transport = new sdk.DefaultChatTransport({
        api: chatUrl('calc'),
        headers: { authorization: `Bearer ${f.token}` },
      });
      const stream = await transport.sendMessages({
        chatId: `chat-${_name}`,
        messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: '6 * 7?' }] }],
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: undefined,
      });
      let last: { parts: { type: string; state?: string; output?: unknown; text?: string }[] } = {
        parts: [],
      };
      for await (const message of sdk.readUIMessageStream({ stream })) last = message as never;
      expect(last.parts.filter((p) => p.type !== 'step-start')).toMatchObject([
        { type: 'text', text: 'Let me compute that.' },
        { type: 'tool-calculator', state: 'output-available', output: { result: 42 } },
        { type: 'text', text: 'It is 42.' },
      ]);
    });
  });
});

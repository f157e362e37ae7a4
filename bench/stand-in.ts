/**
 * A model provider stand-in on loopback: answers OpenAI Chat Completions
 * (`POST /v1/chat/completions`) and Anthropic Messages (`POST /v1/messages`) with SSE in the
 * providers' documented wire format, with a configurable time to first token, number of
 * chunks and gap between chunks. When the request offers tools and carries no tool result
 * yet, it calls `calculator` first (so a run has a tool round trip).
 *
 * Run as a child process (`node bench/stand-in.ts`): prints `{"url": …}` once listening.
 * Settings come from the query string of each request's base URL path:
 * /ttft/<ms>/chunks/<n>/gap/<ms>/v1/chat/completions (`…/gap/<ms>/plain/v1/…`: never a tool call).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInShape {
  ttftMs: number;
  chunks: number;
  gapMs: number;
  /** Answer with text even when the request offers tools (`…/gap/<ms>/plain/v1`). */
  plain?: boolean;
}

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

function parseShape(url: string): { shape: StandInShape; rest: string } {
  const m = /^\/ttft\/(\d+)\/chunks\/(\d+)\/gap\/(\d+)(\/plain)?(\/.*)$/.exec(url);
  if (!m) return { shape: { ttftMs: 0, chunks: 20, gapMs: 0 }, rest: url };
  return {
    shape: {
      ttftMs: Number(m[1]),
      chunks: Number(m[2]),
      gapMs: Number(m[3]),
      ...(m[4] ? { plain: true } : {}),
    },
    rest: m[5]!,
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body || '{}') as Record<string, unknown>;
}

function wantsToolCall(body: Record<string, unknown>): boolean {
  const tools = body.tools as unknown[] | undefined;
  const messages = (body.messages as { role: string; content?: unknown }[] | undefined) ?? [];
  const sawResult = messages.some(
    (m) =>
      m.role === 'tool' ||
      (Array.isArray(m.content) &&
        m.content.some((c) => (c as { type?: string }).type === 'tool_result')),
  );
  return Boolean(tools?.length) && !sawResult;
}

const word = (i: number) => `w${i} `;

async function openai(res: ServerResponse, body: Record<string, unknown>, shape: StandInShape) {
  const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
  const base = {
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: String(body.model),
  };
  const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  await sleep(shape.ttftMs);
  if (!shape.plain && wantsToolCall(body)) {
    send({
      ...base,
      choices: [
        {
          index: 0,
          delta: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                index: 0,
                id: 'call_bench',
                type: 'function',
                function: { name: 'calculator', arguments: '' },
              },
            ],
          },
          finish_reason: null,
        },
      ],
    });
    for (const piece of ['{"expression"', ':"6 * 7"}']) {
      send({
        ...base,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] },
            finish_reason: null,
          },
        ],
      });
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
    send({
      ...base,
      choices: [],
      usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60 },
    });
  } else {
    send({
      ...base,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    for (let i = 0; i < shape.chunks; i++) {
      if (i > 0) await sleep(shape.gapMs);
      send({ ...base, choices: [{ index: 0, delta: { content: word(i) }, finish_reason: null }] });
    }
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    send({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 50,
        completion_tokens: shape.chunks,
        total_tokens: 50 + shape.chunks,
      },
    });
  }
  res.end('data: [DONE]\n\n');
}

async function anthropic(res: ServerResponse, body: Record<string, unknown>, shape: StandInShape) {
  const send = (event: string, payload: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  send('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_bench',
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 50, output_tokens: 1 },
    },
  });
  await sleep(shape.ttftMs);
  if (!shape.plain && wantsToolCall(body)) {
    send('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_bench', name: 'calculator', input: {} },
    });
    for (const piece of ['{"expression"', ':"6 * 7"}'])
      send('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: piece },
      });
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 10 },
    });
  } else {
    send('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    for (let i = 0; i < shape.chunks; i++) {
      if (i > 0) await sleep(shape.gapMs);
      send('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: word(i) },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: shape.chunks },
    });
  }
  send('message_stop', { type: 'message_stop' });
  res.end();
}

export function startStandIn(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const { shape, rest } = parseShape(req.url ?? '/');
      const body = await readJson(req);
      if (req.method === 'POST' && rest === '/v1/chat/completions')
        return await openai(res, body, shape);
      if (req.method === 'POST' && rest === '/v1/messages')
        return await anthropic(res, body, shape);
      res.writeHead(404).end();
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${actual}`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const standIn = await startStandIn();
  process.stdout.write(`${JSON.stringify({ url: standIn.url })}\n`);
}

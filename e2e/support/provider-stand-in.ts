import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

/*
 * A stand-in for the OpenAI Chat Completions API on a loopback port: `POST /v1/chat/completions`
 * answers with golden SSE transcripts from ../shared/fixtures/providers (byte for byte, written
 * in small uneven slices so events and UTF-8 characters are cut across TCP writes), one
 * queued reply per request, in order. Every request is recorded (headers and parsed body) so a
 * test can check the key it was sent and the messages (tool results) that came back.
 */

/** The golden provider transcripts; CI keeps ../shared beside the clone, as here. */
export const FIXTURES_DIR = join(REPO_ROOT, '..', 'shared', 'fixtures', 'providers');

export function readFixture(name: string): Buffer {
  const path = join(FIXTURES_DIR, name);
  if (!existsSync(path))
    throw new Error(
      `Provider fixture ${path} is missing: the e2e tests need ../shared/fixtures/providers beside the repository.`,
    );
  return readFileSync(path);
}

/** A fixture's `*.expected.json` (what a correct adapter reaches), e.g. its `text`. */
export function readExpected(name: string): { text: string; [key: string]: unknown } {
  return JSON.parse(readFixture(name.replace(/\.sse$/, '.expected.json')).toString('utf8'));
}

function substituteOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0)
    throw new Error(`expected exactly one ${from} in the fixture`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The tool call id the calculator transcript carries (the fixture's own). */
export const CALCULATOR_CALL_ID = 'call_O17Uplv4lJvD6DVdIvFFeRMw';
/** The argument text the calculator transcript streams. */
export const CALCULATOR_ARGS = '{"expression":"6 * 7"}';

/**
 * A Chat Completions stream that calls `calculator` with `{"expression":"6 * 7"}`.
 *
 * No golden transcript calls a tool that @parley/plugin-basics has (the single-call fixture
 * calls `test-tool` with `{"value":"Sparkle Day"}`), so this is openai-chat-tool-call-single.sse
 * with only the tool name and four argument pieces substituted, each exactly once, inside the
 * fixture's own chunks: every other byte (ids, the empty first `arguments`, the `{"`, `":"` and
 * `"}` pieces, finish chunk, `choices: []` usage chunk, `[DONE]`) is the fixture's. The pieces
 * become `{"` `expression` `":"` `6` ` *` ` 7` `"}`.
 */
export function calculatorToolCallTranscript(): Buffer {
  let text = readFixture('openai-chat-tool-call-single.sse').toString('utf8');
  text = substituteOnce(text, '"name":"test-tool"', '"name":"calculator"');
  text = substituteOnce(text, '"arguments":"value"', '"arguments":"expression"');
  text = substituteOnce(text, '"arguments":"Spark"', '"arguments":"6"');
  text = substituteOnce(text, '"arguments":"le"', '"arguments":" *"');
  text = substituteOnce(text, '"arguments":" Day"', '"arguments":" 7"');
  return Buffer.from(text, 'utf8');
}

/** The text answer: a real gpt-4.1-nano recording with usage, replayed verbatim. */
export const TEXT_FIXTURE = 'openai-chat-text-include-usage.sse';

/** A 200 `text/event-stream` body, sent as is; `label` names it in the request log. */
export interface Reply {
  sse: Buffer;
  label: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: ChatRequestBody | undefined;
  /** Which queued reply answered it (`unexpected` when the queue was empty). */
  answeredWith: string;
}

export interface ChatRequestBody {
  model: string;
  stream?: boolean;
  messages: {
    role: string;
    content: unknown;
    tool_call_id?: string;
    tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  }[];
  tools?: { type: string; function: { name: string } }[];
  [key: string]: unknown;
}

export interface ProviderStandIn {
  /** The API root to give an agent as `baseURL` (`http://127.0.0.1:<port>/v1`). */
  baseURL: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Queues replies: the next requests get them, one each, in order. */
  enqueue(...replies: Reply[]): void;
  /** Replies still queued. */
  pending(): number;
  close(): Promise<void>;
}

/** Slice sizes, cycled: 1-byte writes, odd sizes that cut `data:` lines and UTF-8 sequences. */
const SLICES = [1, 7, 3, 64, 13, 2, 256, 5, 31];

async function writeSliced(res: ServerResponse, body: Buffer): Promise<void> {
  let offset = 0;
  for (let i = 0; offset < body.length; i++) {
    const size = SLICES[i % SLICES.length]!;
    const slice = body.subarray(offset, offset + size);
    offset += size;
    if (res.destroyed) return;
    if (!res.write(slice)) await new Promise((r) => res.once('drain', r));
    // Let the socket flush: separate writes, not one coalesced buffer.
    await new Promise((r) => setImmediate(r));
  }
}

export async function startProviderStandIn(): Promise<ProviderStandIn> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: ChatRequestBody | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestBody;
    } catch {
      body = undefined;
    }
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const isChat = req.method === 'POST' && path === '/v1/chat/completions';
    const reply = isChat ? queue.shift() : undefined;
    requests.push({
      method: req.method ?? '',
      path,
      headers: req.headers,
      body,
      answeredWith: reply?.label ?? 'unexpected',
    });
    if (!reply) {
      // 400 is not retried by the adapters: an unplanned call fails its run at once.
      res.writeHead(isChat ? 400 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            message: `provider stand-in: no reply queued for ${req.method} ${path}`,
            type: 'invalid_request_error',
          },
        }),
      );
      return;
    }
    open.add(res);
    res.on('close', () => open.delete(res));
    res.socket?.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_standin_${requests.length}`,
    });
    res.flushHeaders();
    await writeSliced(res, reply.sse);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    pending: () => queue.length,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The two calls of one calculator run: the tool call, then the text answer. */
export function calculatorRunReplies(): Reply[] {
  return [
    { sse: calculatorToolCallTranscript(), label: 'tool-call:calculator' },
    { sse: readFixture(TEXT_FIXTURE), label: `text:${TEXT_FIXTURE}` },
  ];
}

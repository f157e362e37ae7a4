import type { ServerResponse } from 'node:http';
import {
  assertConformance,
  createEventStamper,
  type ParleyEvent,
  reduceEvents,
  textOf,
  toolCallsOf,
} from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/create-model.ts';
import type { ModelSettings } from '../src/model.ts';
import { collect, hello, lastFinish } from './helpers/collect.ts';
import {
  type Handler,
  type LoopbackServer,
  type ReceivedRequest,
  startLoopbackServer,
} from './helpers/loopback-server.ts';
import {
  NETWORK_PROVIDERS,
  type NetworkProvider,
  SSE_HEADERS,
  streamFor,
} from './helpers/streams.ts';

let handle: Handler = (_request, response) => void response.destroy();
let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer((request, response) => handle(request, response));
});
afterAll(() => server.close());

const model = (provider: NetworkProvider, settings: Partial<ModelSettings> = {}) =>
  createModel({
    provider,
    model: 'test-model',
    apiKey: 'test-key',
    baseURL: server.baseURL,
    maxRetries: 0,
    ...settings,
  });

/** Fails the test (instead of hanging) when a promise does not settle in time. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

const hang = (request: ReceivedRequest) => request.closed;

describe.each(NETWORK_PROVIDERS)('%s: failures end in a typed error, never a hang', (provider) => {
  const { start, end } = streamFor(provider);

  it('cancellation mid-stream closes the HTTP request at once and keeps the partial output', async () => {
    let received: ReceivedRequest | undefined;
    handle = async (request, response) => {
      received = request;
      response.writeHead(200, SSE_HEADERS);
      response.write(start);
      await hang(request);
    };
    const controller = new AbortController();
    const stamper = createEventStamper({ runId: 'run_cancel' });
    const events: ParleyEvent[] = [];
    const consume = async () => {
      for await (const payload of model(provider).stream(hello, { signal: controller.signal })) {
        events.push(stamper.stamp(payload));
        if (payload.type === 'text.delta') controller.abort();
      }
    };
    await within(consume(), 5000, 'the stream ending after abort');
    await within(received!.closed, 5000, 'the server seeing the request closed');
    assertConformance(events, { scope: 'steps' });
    expect(lastFinish(events).error).toMatchObject({ code: 'cancelled', retryable: false });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });

  it('a consumer that stops reading closes the request too', async () => {
    let received: ReceivedRequest | undefined;
    handle = async (request, response) => {
      received = request;
      response.writeHead(200, SSE_HEADERS);
      response.write(start);
      await hang(request);
    };
    for await (const payload of model(provider).stream(hello))
      if (payload.type === 'text.delta') break;
    await within(received!.closed, 5000, 'the server seeing the request closed');
  });

  it('a server that stalls after some output times out with the partial output kept', async () => {
    handle = async (request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.write(start);
      await hang(request);
    };
    const events = await collect(model(provider, { timeoutMs: 300 }));
    expect(lastFinish(events).error).toMatchObject({
      code: 'timeout',
      retryable: true,
      message: expect.stringContaining('mid-stream (model.timeouts.stallSeconds)'),
    });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });

  it('the time limit is for silence: a slow stream that keeps flowing is not cut off', async () => {
    handle = async (_request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.write(start);
      // 8 × 60 ms = 480 ms in all, well past the 200 ms limit, but never 200 ms of silence.
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        response.write(': still here\n\n');
      }
      response.end(end);
    };
    const events = await collect(model(provider, { timeoutMs: 200 }));
    expect(lastFinish(events).error).toBeUndefined();
    expect(textOf(reduceEvents(events)).startsWith('Hello')).toBe(true);
  });

  it('a server that never answers times out at the first-byte limit (no response headers at all)', async () => {
    handle = (request) => hang(request);
    const events = await collect(model(provider, { firstByteTimeoutMs: 200 }));
    const finish = lastFinish(events);
    expect(finish.error).toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('no first byte within 0.2 s'),
    });
    expect(finish.timing.ttfbMs).toBeUndefined();
  });

  it('the first-byte limit holds for the whole step: no retry starts past it', async () => {
    let requests = 0;
    handle = (request) => {
      requests++;
      return hang(request);
    };
    const events = await collect(model(provider, { firstByteTimeoutMs: 300, maxRetries: 2 }));
    expect(lastFinish(events).error).toMatchObject({ code: 'timeout' });
    expect(events.filter((e) => e.type === 'step.reset')).toEqual([]);
    expect(requests).toBe(1);
  });

  it('the stall limit starts at the first byte: headers, then silence', async () => {
    handle = async (request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.flushHeaders();
      await hang(request);
    };
    const events = await collect(model(provider, { firstByteTimeoutMs: 60_000, timeoutMs: 200 }));
    expect(lastFinish(events).error).toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('nothing for 0.2 s mid-stream'),
    });
  });

  it('a socket closed mid-event is a truncated stream, partial output kept', async () => {
    handle = async (_request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.write(start);
      response.write(end.slice(0, Math.floor(end.length / 3)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      response.socket?.destroy();
    };
    const events = await collect(model(provider));
    expect(lastFinish(events).error).toMatchObject({ code: 'truncated_stream', retryable: true });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });

  it('a clean end of the body without a finish reason is a truncated stream', async () => {
    handle = (_request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(start);
    };
    const events = await collect(model(provider));
    expect(lastFinish(events)).toMatchObject({
      finishReason: { unified: 'error' },
      error: { code: 'truncated_stream' },
    });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });

  it('a 200 whose body is not an event stream is an invalid response', async () => {
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html><body>Gateway login required</body></html>');
    };
    const events = await collect(model(provider));
    expect(lastFinish(events).error).toMatchObject({
      code: 'invalid_response',
      retryable: false,
      message: expect.stringContaining('Gateway login required'),
    });
  });

  it('a 200 with a JSON error body is that typed error', async () => {
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 429, message: 'Provider returned error' } }));
    };
    const events = await collect(model(provider));
    expect(lastFinish(events).error).toMatchObject({ code: 'rate_limited', retryable: true });
  });

  it('invalid JSON inside an event ends the step with invalid_response, partial kept', async () => {
    handle = (_request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(`${start}data: {"choices": [{"delta": \n\n${end}`);
    };
    const events = await collect(model(provider));
    expect(lastFinish(events).error).toMatchObject({
      code: 'invalid_response',
      message: expect.stringContaining('not JSON'),
    });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });
});

describe('retries before the first token', () => {
  function replyInTurn(...replies: ((response: ServerResponse) => void)[]) {
    let call = 0;
    handle = (_request, response) => replies[Math.min(call++, replies.length - 1)]!(response);
    return () => call;
  }
  const succeed = (provider: NetworkProvider) => (response: ServerResponse) => {
    response.writeHead(200, SSE_HEADERS);
    const { start, end } = streamFor(provider);
    response.end(start + end);
  };

  it('retries an OpenAI 429 after retry-after-ms: step.reset, then attempt 2 succeeds', async () => {
    const calls = replyInTurn((response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '30' });
      response.end(
        JSON.stringify({
          error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' },
        }),
      );
    }, succeed('openai'));
    const events = await collect(model('openai', { maxRetries: 2 }));
    expect(calls()).toBe(2);
    expect(events.map((event) => event.type).slice(0, 3)).toEqual([
      'step.start',
      'step.reset',
      'step.start',
    ]);
    expect(events[1]).toMatchObject({
      reason: 'retry',
      error: { code: 'rate_limited', retryAfterMs: 30, httpStatus: 429 },
    });
    expect(events[2]).toMatchObject({ type: 'step.start', attempt: 2 });
    const finish = lastFinish(events);
    expect(finish).toMatchObject({ finishReason: { unified: 'stop' }, timing: { retries: 1 } });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });

  it('retries an Anthropic 529 with backoff (no retry-after) and then streams', async () => {
    const calls = replyInTurn((response) => {
      response.writeHead(529, { 'content-type': 'application/json', 'x-should-retry': 'true' });
      response.end(
        JSON.stringify({
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded' },
        }),
      );
    }, succeed('anthropic'));
    const events = await collect(model('anthropic', { maxRetries: 1 }));
    expect(calls()).toBe(2);
    expect(events[1]).toMatchObject({
      type: 'step.reset',
      error: { code: 'overloaded', retryable: true, httpStatus: 529 },
    });
    expect(events[2]).toMatchObject({ type: 'step.start', attempt: 2 });
    expect(lastFinish(events)).toMatchObject({
      finishReason: { unified: 'stop', raw: 'end_turn' },
    });
  });

  it('retries an Anthropic overloaded_error that arrives after an empty text block opened', async () => {
    const event = (type: string, fields: Record<string, unknown> = {}) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
    const calls = replyInTurn((response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(
        event('message_start', { message: { id: 'msg_0', usage: { input_tokens: 5 } } }) +
          event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
          event('ping') +
          event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
      );
    }, succeed('anthropic'));
    const events = await collect(model('anthropic', { maxRetries: 1 }));
    expect(calls()).toBe(2);
    expect(events.map((e) => e.type).slice(0, 5)).toEqual([
      'step.start',
      'text.start',
      'text.end',
      'usage',
      'step.reset',
    ]);
    expect(events[4]).toMatchObject({ error: { code: 'overloaded' } });
    expect(textOf(reduceEvents(events))).toBe('Hello');
  });

  it('gives up after maxRetries with the last error', async () => {
    const calls = replyInTurn((response) => {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
      response.end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } }));
    });
    const events = await collect(model('openai-compatible', { maxRetries: 2 }));
    expect(calls()).toBe(3);
    expect(events.filter((event) => event.type === 'step.reset')).toHaveLength(2);
    expect(lastFinish(events).error).toMatchObject({ code: 'overloaded', retryAfterMs: 0 });
  });

  it('does not retry insufficient_quota although it is a 429', async () => {
    const calls = replyInTurn((response) => {
      response.writeHead(429, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' },
        }),
      );
    });
    const events = await collect(model('openai', { maxRetries: 2 }));
    expect(calls()).toBe(1);
    expect(lastFinish(events).error).toMatchObject({ code: 'quota_exhausted', retryable: false });
  });

  it('does not sit out a retry-after longer than a minute: the caller gets the wait', async () => {
    const calls = replyInTurn((response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '120' });
      response.end(JSON.stringify({ error: { code: 429, message: 'Rate limited' } }));
    });
    const events = await collect(model('openrouter', { maxRetries: 2 }));
    expect(calls()).toBe(1);
    expect(lastFinish(events).error).toMatchObject({ code: 'rate_limited', retryAfterMs: 120_000 });
  });

  it('retries a stream truncated before any content, but never one that already streamed', async () => {
    const { start } = streamFor('openai');
    let calls = replyInTurn((response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(': keep-alive\n\n');
    }, succeed('openai'));
    const retried = await collect(model('openai', { maxRetries: 1 }));
    expect(calls()).toBe(2);
    expect(retried[1]).toMatchObject({ type: 'step.reset', error: { code: 'truncated_stream' } });
    expect(lastFinish(retried).finishReason.unified).toBe('stop');

    calls = replyInTurn((response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(start);
    }, succeed('openai'));
    const kept = await collect(model('openai', { maxRetries: 2 }));
    expect(calls()).toBe(1);
    expect(lastFinish(kept).error?.code).toBe('truncated_stream');
    expect(textOf(reduceEvents(kept))).toBe('Hello');
  });

  it('cancelling while waiting to retry ends at once with cancelled', async () => {
    replyInTurn((response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      response.end(JSON.stringify({ error: { message: 'later', type: 'rate_limit_error' } }));
    });
    const controller = new AbortController();
    const stamper = createEventStamper({ runId: 'run_wait' });
    const events: ParleyEvent[] = [];
    const consume = async () => {
      for await (const payload of model('anthropic', { maxRetries: 2 }).stream(hello, {
        signal: controller.signal,
      })) {
        events.push(stamper.stamp(payload));
        if (payload.type === 'step.reset') controller.abort();
      }
    };
    await within(consume(), 5000, 'the stream ending after abort');
    assertConformance(events, { scope: 'steps' });
    expect(lastFinish(events).error?.code).toBe('cancelled');
  });
});

describe('open parts at a failure', () => {
  it('an interrupted tool call ends as tool_call.invalid with the arguments so far', async () => {
    handle = (_request, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(
        `data: ${JSON.stringify({
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: [
                  {
                    index: 0,
                    id: 'call_1',
                    type: 'function',
                    function: { name: 'f', arguments: '{"a":' },
                  },
                ],
              },
            },
          ],
        })}\n\n`,
      );
    };
    const events = await collect(model('openai'));
    const [call] = toolCallsOf(reduceEvents(events));
    expect(call).toMatchObject({ toolCallId: 'call_1', status: 'invalid', argsText: '{"a":' });
    expect(lastFinish(events).error?.code).toBe('truncated_stream');
  });

  it('a connection refused is a retryable network error', async () => {
    const closed = await startLoopbackServer(() => {});
    const baseURL = closed.baseURL;
    await closed.close();
    const events = await collect(
      createModel({ provider: 'openai', model: 'm', apiKey: 'k', baseURL, maxRetries: 0 }),
    );
    expect(lastFinish(events).error).toMatchObject({ code: 'network', retryable: true });
  });
});

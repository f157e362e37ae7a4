import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createModel } from '../src/create-model.ts';
import { collect, lastFinish } from './helpers/collect.ts';
import {
  type Handler,
  type LoopbackServer,
  startLoopbackServer,
} from './helpers/loopback-server.ts';
import {
  NETWORK_PROVIDERS,
  type NetworkProvider,
  SSE_HEADERS,
  streamFor,
} from './helpers/streams.ts';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: Handler) {
  server = await startLoopbackServer(handler);
  return server;
}

const modelOn = (provider: NetworkProvider, baseURL: string) =>
  createModel({ provider, model: 'model-x', apiKey: 'sk-test', baseURL, maxRetries: 0 });

/** Waits for a condition the other side of a socket brings about. */
async function until(condition: () => boolean) {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

describe('model calls reuse their connection', () => {
  it.each(NETWORK_PROVIDERS)('%s: three calls in a row, one connection', async (provider) => {
    const { start, end } = streamFor(provider);
    const loopback = await serve((_, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(start + end);
    });
    const model = modelOn(provider, loopback.baseURL);
    for (let i = 0; i < 3; i++)
      expect(lastFinish(await collect(model)).finishReason.unified).toBe('stop');
    expect(loopback.requests).toHaveLength(3);
    expect(loopback.connections).toBe(1);
  });

  it('an error answer read to its end leaves the connection open for the next call', async () => {
    let calls = 0;
    const { start, end } = streamFor('openai');
    const loopback = await serve((_, response) => {
      if (calls++ === 0) {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'bad model', type: 'invalid_request' } }));
        return;
      }
      response.writeHead(200, SSE_HEADERS);
      response.end(start + end);
    });
    const model = modelOn('openai', loopback.baseURL);
    expect(lastFinish(await collect(model)).error).toMatchObject({ code: 'invalid_request' });
    expect(lastFinish(await collect(model)).finishReason.unified).toBe('stop');
    expect(loopback.connections).toBe(1);
  });

  it('a stream that ends its answer but never its response is closed, not waited for', async () => {
    const { start, end } = streamFor('openai');
    const loopback = await serve((_, response) => {
      response.writeHead(200, SSE_HEADERS);
      // `[DONE]` and then nothing: the response is never ended.
      response.write(start + end);
    });
    const model = modelOn('openai', loopback.baseURL);
    expect(lastFinish(await collect(model)).finishReason.unified).toBe('stop');
    await expect(loopback.requests[0]!.closed).resolves.toBeUndefined();
    expect(await until(() => loopback.open === 0)).toBe(true);
    // The next call opens a new connection instead of waiting on the held one.
    expect(lastFinish(await collect(model)).finishReason.unified).toBe('stop');
    expect(loopback.connections).toBe(2);
  });
});

describe('model calls through a proxy', () => {
  it('with NODE_USE_ENV_PROXY=1 they go through HTTP_PROXY, as Node’s own clients do', async () => {
    const { start, end } = streamFor('openai');
    // The loopback server stands in for the proxy: a proxied request names the whole URL.
    const proxy = await serve((_, response) => {
      response.writeHead(200, SSE_HEADERS);
      response.end(start + end);
    });
    const createModelUrl = new URL('../src/create-model.ts', import.meta.url).href;
    const script = `
      const { createModel } = await import(${JSON.stringify(createModelUrl)});
      const model = createModel({ provider: 'openai', model: 'model-x', apiKey: 'sk-test',
        baseURL: 'http://models.example.invalid/v1', maxRetries: 0 });
      let finish;
      for await (const payload of model.stream({ messages: [{ role: 'user', content: 'hi' }] }))
        if (payload.type === 'step.finish') finish = payload;
      console.log(JSON.stringify(finish.finishReason));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '--eval', script],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, NODE_USE_ENV_PROXY: '1', HTTP_PROXY: proxy.origin, NO_PROXY: '' },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ unified: 'stop' });
    expect(proxy.requests.map((r) => r.path)).toEqual([
      'http://models.example.invalid/v1/chat/completions',
    ]);
  });
});

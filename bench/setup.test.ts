import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parleyRun } from './setup.ts';

/*
 * The benchmarks' request helpers, against a local HTTP server that records what it was sent:
 * a run through Parley carries the caller's extra headers (bench/tracing.ts sends a
 * `traceparent` this way) beside the token, which they cannot replace.
 */

const received: {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}[] = [];
const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  received.push({ method: req.method, url: req.url, headers: req.headers, body });
  res
    .writeHead(200, { 'content-type': 'text/event-stream' })
    .end('event: run.finish\ndata: {}\n\n');
});

beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('sends a run with the given headers beside the token', async () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const target = { url, token: 'prl_bench', workspaceId: 'ws-1' };
  const response = await parleyRun(target, 'bench-traced', {
    traceparent,
    authorization: 'Bearer not-this-one',
  });
  expect(await response.text()).toContain('event: run.finish');
  const [request] = received;
  expect(request).toMatchObject({
    method: 'POST',
    url: '/v1/workspaces/ws-1/agents/bench-traced/runs',
    body: JSON.stringify({ input: 'Say something.' }),
  });
  expect(request!.headers).toMatchObject({
    traceparent,
    authorization: 'Bearer prl_bench',
    'content-type': 'application/json',
  });
});

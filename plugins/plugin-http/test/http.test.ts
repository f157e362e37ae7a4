import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInMemoryRunStore, createPluginHost, defineAgent, runAgent } from '@parley/core';
import { assertConformance, type ParleyEvent } from '@parley/protocol';
import { createScriptedModel } from '@parley/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPlugin, htmlToText } from '../src/index.ts';

let server: Server;
let origin: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case '/page':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          '<html><head><title>Tea &amp; Co</title><style>p{}</style></head><body><script>alert(1)</script><h1>Green tea</h1><p>Brew at 80&deg;C &#8212; not boiling.</p></body></html>',
        );
        return;
      case '/big':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(10_000));
        return;
      case '/slow':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('start');
        return; // never ends
      case '/image':
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.alloc(100));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

async function fetchThroughRun(
  url: string,
  options: Partial<Parameters<typeof createHttpPlugin>[0]> = {},
) {
  const plugins = createPluginHost();
  plugins.register(
    createHttpPlugin({ allow: ['127.0.0.1'], maxBytes: 1000, timeoutMs: 300, ...options }),
  );
  const model = createScriptedModel({
    script: [
      [{ type: 'tool_call', name: 'http_get', args: { url }, id: 'h1' }],
      [{ type: 'text', text: 'read it' }],
    ],
  });
  const agent = defineAgent({
    name: 'reader',
    instructions: 'Read pages.',
    model: { provider: 'scripted', model: 'echo' },
    plugins: [{ name: '@parley/plugin-http' }],
  });
  const events: ParleyEvent[] = [];
  for await (const event of runAgent(
    { agent, agentId: 'a', workspaceId: 'w', conversationId: 'c', input: 'read' },
    { models: () => model, plugins, store: createInMemoryRunStore() },
  )) {
    events.push(event);
  }
  assertConformance(events);
  return events.find((e) => e.type === 'tool.result') as Extract<
    ParleyEvent,
    { type: 'tool.result' }
  >;
}

describe('plugin-http', () => {
  it('fetches an allowed page as readable text', async () => {
    const result = await fetchThroughRun(`${origin}/page`);
    expect(result).toMatchObject({
      ok: true,
      output: { status: 200, title: 'Tea & Co', truncated: false },
    });
    const text = (result.output as { text: string }).text;
    expect(text).toContain('Green tea');
    expect(text).toContain('Brew at 80&deg;C — not boiling.');
    expect(text).not.toContain('alert');
  });

  it('cuts bodies at the size limit', async () => {
    const result = await fetchThroughRun(`${origin}/big`);
    expect(result.output).toMatchObject({ truncated: true });
    expect((result.output as { text: string }).text).toHaveLength(1000);
  });

  it('gives up on a server that stalls', async () => {
    const result = await fetchThroughRun(`${origin}/slow`);
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/within 300 ms|aborted|timeout/i),
    });
  });

  it('skips bodies that are not text', async () => {
    const result = await fetchThroughRun(`${origin}/image`);
    expect(result.output).toMatchObject({
      contentType: 'image/png',
      text: '',
      note: expect.stringContaining('not a text'),
    });
  });

  it('refuses hosts outside the allow-list', async () => {
    const result = await fetchThroughRun(`${origin}/page`, { allow: ['docs.example.com'] });
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringContaining('did not declare network access to 127.0.0.1'),
    });
  });

  it('extracts text from HTML', () => {
    expect(htmlToText('<p>a&nbsp;b</p><p>c &#x41; &lt;d&gt;</p><!-- hidden -->')).toEqual({
      text: 'a b\nc A <d>',
    });
  });
});

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPluginHost, type PluginDefinition } from '../src/index.ts';

/*
 * A plugin's fetch follows redirects itself (to check each hop), so it must also do what
 * fetch does on the way: not hand credentials to another origin, and turn a 303 (or a 301/302
 * after a POST) into a GET without the body. Two loopback servers, two origins.
 */

const plugin: PluginDefinition = {
  name: 'plugin-demo',
  version: '1.2.0',
  contract: 1,
  core: '^0.1.0',
  permissions: { network: ['127.0.0.1'] },
};

async function echo(req: IncomingMessage) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return {
    method: req.method,
    authorization: req.headers.authorization ?? null,
    cookie: req.headers.cookie ?? null,
    apiKey: req.headers['x-api-key'] ?? null,
    contentType: req.headers['content-type'] ?? null,
    body,
  };
}

function listen(
  handler: (req: IncomingMessage) => Promise<[number, Record<string, string>, string]>,
) {
  return new Promise<{ server: Server; origin: string }>((resolve) => {
    const server = createServer(async (req, res) => {
      const [status, headers, body] = await handler(req);
      res.writeHead(status, headers).end(body);
    }).listen(0, '127.0.0.1', () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    );
  });
}

let a: { server: Server; origin: string };
let b: { server: Server; origin: string };

beforeAll(async () => {
  b = await listen(async (req) => [200, {}, JSON.stringify(await echo(req))]);
  a = await listen(async (req) => {
    const [, kind, status] = /^\/(same|cross)\/(\d+)$/.exec(req.url ?? '') ?? [];
    if (!kind) return [200, {}, JSON.stringify(await echo(req))];
    for await (const _ of req); // drain the body
    const target = kind === 'same' ? a.origin : b.origin;
    return [Number(status), { location: `${target}/echo` }, ''];
  });
});
afterAll(async () => {
  for (const s of [a, b]) await new Promise((resolve) => s?.server.close(resolve));
});

function pluginFetch() {
  const host = createPluginHost();
  host.register(plugin);
  return host.createToolContext(plugin, {
    toolCallId: 'call_1',
    agentId: 'agt_1',
    conversationId: 'conv_1',
    signal: new AbortController().signal,
    memory: { remember: async () => ({ id: 'm' }) as never, recall: async () => [] },
  }).context.fetch;
}

const credentials = {
  authorization: 'Bearer sk-plugin-key',
  cookie: 'sid=1',
  'x-api-key': 'k-1',
};

describe('redirects a plugin follows', () => {
  it('keeps credentials on the same origin', async () => {
    const seen = (await (
      await pluginFetch()(`${a.origin}/same/302`, { headers: credentials })
    ).json()) as Record<string, unknown>;
    expect(seen).toMatchObject({
      method: 'GET',
      authorization: 'Bearer sk-plugin-key',
      cookie: 'sid=1',
    });
  });

  it('drops Authorization and Cookie when the redirect leaves the origin', async () => {
    const seen = (await (
      await pluginFetch()(`${a.origin}/cross/302`, { headers: credentials })
    ).json()) as Record<string, unknown>;
    expect(seen).toMatchObject({ method: 'GET', authorization: null, cookie: null });
    // Like fetch, it cannot know which other headers carry a secret: a plugin that puts its key
    // in a header of its own declares only hosts it trusts with it.
    expect(seen.apiKey).toBe('k-1');
  });

  it.each([
    [303, 'PUT', 'GET', ''],
    [302, 'POST', 'GET', ''],
    [301, 'POST', 'GET', ''],
    [307, 'POST', 'POST', '{"n":1}'],
    [308, 'PUT', 'PUT', '{"n":1}'],
  ])('after a %i, a %s goes on as %s', async (status, method, expected, body) => {
    const seen = (await (
      await pluginFetch()(`${a.origin}/same/${status}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: '{"n":1}',
      })
    ).json()) as Record<string, unknown>;
    expect(seen).toMatchObject({
      method: expected,
      body,
      contentType: expected === 'GET' ? null : 'application/json',
    });
  });
});

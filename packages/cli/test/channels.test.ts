import { createServer, type Server } from 'node:http';
import { createParleyClient } from '@parley/client';
import { startTestServer, type TestServer } from '@parley/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parley, testIo } from './support/io.ts';

/*
 * `parley channels` against a real server and a local Telegram Bot API that knows one bot
 * (getMe; deleteWebhook; getUpdates held open as a long poll): connect (the token from stdin,
 * checked with getMe, the agent redeployed with the entry), list, pause, a refused token.
 */

const TOKEN = '3003:cli';
let server: TestServer;
let telegram: Server;
let apiRoot: string;

beforeAll(async () => {
  telegram = createServer((request, response) => {
    const [, token, method] = /^\/bot([^/]+)\/(\w+)$/.exec(request.url ?? '') ?? [];
    if (method === 'getUpdates') return; // a long poll nobody answers: the channel is listening
    response.writeHead(token === TOKEN ? 200 : 401, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        token !== TOKEN
          ? { ok: false, error_code: 401, description: 'Unauthorized' }
          : method === 'getMe'
            ? {
                ok: true,
                result: { id: 3003, is_bot: true, first_name: 'Cli', username: 'cli_bot' },
              }
            : { ok: true, result: true },
      ),
    );
  });
  await new Promise<void>((resolve) => telegram.listen(0, '127.0.0.1', resolve));
  const address = telegram.address();
  apiRoot = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  server = await startTestServer({ engine: 'postgres' });
  const client = createParleyClient({ baseUrl: server.url, token: server.token });
  await client.agents.create(server.workspaceId, {
    definition: {
      name: 'helper',
      instructions: 'x',
      model: { provider: 'scripted', model: 'demo' },
    },
    deploy: true,
  });
});
afterAll(async () => {
  await server?.close();
  telegram?.closeAllConnections();
  await new Promise((resolve) => telegram?.close(resolve));
});

describe('parley channels', () => {
  const env = () => ({ PARLEY_SERVER: server.url, PARLEY_TOKEN: server.token });

  it('connects a Telegram bot: stores the token, checks it, deploys the entry; lists and pauses it', async () => {
    const io = await testIo({ env: env() });
    io.type(`${TOKEN}\n`);
    const connected = await parley(
      ['channels', 'connect', 'helper', 'telegram', '--api-root', apiRoot],
      io,
    );
    expect(connected.stderr).toBe('');
    expect(connected.stdout).toContain('helper answers on telegram as @cli_bot (deployed v2).');
    expect(connected.stdout).not.toContain(TOKEN);

    // The deploy reaches the channel manager right after it answers: the list follows soon.
    const list = async () =>
      JSON.parse((await parley(['channels', '--json'], await testIo({ env: env() }))).stdout);
    const end = Date.now() + 10_000;
    while ((await list()).length === 0 && Date.now() < end)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await list()).toEqual([
      expect.objectContaining({ agent: 'helper', platform: 'telegram', mode: 'polling' }),
    ]);

    const paused = await parley(
      ['channels', 'pause', 'helper', 'telegram'],
      await testIo({ env: env() }),
    );
    expect(paused.stdout).toContain('helper: telegram paused (deployed v3).');
    const client = createParleyClient({ baseUrl: server.url, token: server.token });
    const { version } = await client.agents.get(server.workspaceId, 'helper');
    expect((version!.definition as { channels: unknown[] }).channels).toEqual([
      expect.objectContaining({
        platform: 'telegram',
        tokenSecret: 'TELEGRAM_BOT_TOKEN',
        paused: true,
      }),
    ]);
  });

  it('says when the platform refuses a token', async () => {
    const io = await testIo({ env: env() });
    io.type('999:wrong\n');
    await parley(['secrets', 'set', 'WRONG_TOKEN'], io);
    const refused = await parley(
      ['channels', 'check', 'telegram', '--token-secret', 'WRONG_TOKEN', '--api-root', apiRoot],
      await testIo({ env: env() }),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Unauthorized');
  });
});

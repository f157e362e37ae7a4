import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscordStandIn, startDiscordStandIn } from './support/discord-stand-in.ts';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';

/*
 * An agent on Discord (docs/channels.md) against a local Discord (REST + Gateway): HELLO,
 * IDENTIFY, heartbeats, READY, a DM answered by edits, a dropped gateway resumed with the
 * events missed meanwhile replayed, an approval by button (INTERACTION_CREATE), a 429, and
 * the interactions endpoint's Ed25519 signature.
 */

const TOKEN = 'discord-bot-token';
const BOT = '4242';
let server: TestServer;
let discord: DiscordStandIn;
let hookUrl: string;
const keys = generateKeyPairSync('ed25519');
const publicKeyHex = keys.publicKey
  .export({ format: 'der', type: 'spki' })
  .subarray(-32)
  .toString('hex');

const script = [
  [{ type: 'tool_call', name: 'calculator', args: { expression: '6 * 7' }, id: 'call_calc' }],
  [{ type: 'text', text: 'It is **42**.' }],
];

async function until<T>(read: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let messageId = 100;
const dm = (channel: string, user: string, content: string) => ({
  id: String(messageId++),
  channel_id: channel,
  author: { id: user, username: 'u', bot: false },
  content,
  mentions: [],
  type: 0,
});
const inChannel = (channel: string) => discord.messages.filter((m) => m.channel_id === channel);

async function deploy(name: string, agentScript: unknown[] | undefined, extra: object) {
  const res = await client(server.url, server.token)(
    'POST',
    `/v1/workspaces/${server.workspaceId}/agents`,
    {
      definition: scriptedAgent(name, agentScript, {
        channels: [
          {
            platform: 'discord',
            tokenSecret: 'DISCORD_BOT_TOKEN',
            signingSecret: 'DISCORD_PUBLIC_KEY',
            mode: 'gateway',
            apiRoot: `${discord.url}/api/v10`,
          },
        ],
        ...extra,
      }),
      deploy: true,
    },
  );
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { agent: { id: string } }).agent.id;
}

beforeAll(async () => {
  discord = await startDiscordStandIn({ token: TOKEN, botId: BOT, heartbeatMs: 100 });
  server = await startTestServer({ engine: 'postgres', tuning: { channelEditIntervalMs: 40 } });
  const call = client(server.url, server.token);
  for (const [name, value] of [
    ['DISCORD_BOT_TOKEN', TOKEN],
    ['DISCORD_PUBLIC_KEY', publicKeyHex],
  ])
    expect(
      (await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/${name}`, { value })).status,
    ).toBeLessThan(300);
  const agentId = await deploy('disco', script, {
    plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
    requireApproval: ['calculator'],
  });
  hookUrl = `${server.url}/v1/channels/${server.workspaceId}/${agentId}/discord/webhook`;
  await until(() => discord.connected(), 'READY');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await discord?.close();
});

describe('Discord channel', () => {
  it('identifies once, heartbeats, and asks for approval with buttons; the press runs the tool', async () => {
    expect(discord.gateway.identifies).toBe(1);
    await until(() => discord.gateway.heartbeats >= 2, 'heartbeats');
    discord.dispatch('MESSAGE_CREATE', dm('700', '11', 'what is 6 * 7?'));
    const prompt = await until(
      () => inChannel('700').find((m) => m.components.length),
      'the prompt',
    );
    expect(prompt.content).toContain('**calculator**');
    const [allow] = prompt.components[0]!.components;
    expect(allow!.label).toBe('Allow');
    discord.dispatch('INTERACTION_CREATE', {
      id: '55',
      token: 'interaction-token',
      type: 3,
      channel_id: '700',
      user: { id: '11' },
      message: { id: prompt.id },
      data: { custom_id: allow!.custom_id, component_type: 2 },
    });
    await until(() => inChannel('700').find((m) => m.content === 'It is **42**.'), 'the answer');
    // The prompt's edit and the answer race: both come.
    await until(() => prompt.content === '✅ Allowed.', 'the prompt edited');
    expect(prompt.components).toEqual([]);
    const callback = discord.calls.find(
      (c) => c.path === '/interactions/55/interaction-token/callback',
    );
    expect(callback?.body).toMatchObject({ type: 4, data: { content: '✅ Allowed.', flags: 64 } });
  });

  it('resumes a dropped gateway with its session and gets the events missed meanwhile', async () => {
    discord.drop();
    discord.dispatch('MESSAGE_CREATE', dm('701', '12', 'are you there?'));
    await until(() => discord.gateway.resumes.length === 1 && discord.connected(), 'RESUME');
    expect(discord.gateway.resumes[0]).toMatchObject({ session_id: 'session-1' });
    expect(discord.gateway.identifies).toBe(1);
    // The message sent while the connection was down reached the agent (its script asks first).
    await until(
      () => inChannel('701').find((m) => m.content.includes('**calculator**')),
      'the missed message answered',
    );
  });

  it('waits out a 429 on sending', async () => {
    discord.limitNext('POST', 1);
    discord.dispatch('MESSAGE_CREATE', dm('702', '13', 'hi'));
    await until(() => inChannel('702')[0], 'the answer', 15_000);
    const posts = discord.calls.filter(
      (c) => c.method === 'POST' && c.path === '/channels/702/messages',
    );
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('verifies the interactions endpoint’s Ed25519 signature; answers PING', async () => {
    const post = (body: string, signer = keys.privateKey) => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = sign(null, Buffer.from(timestamp + body), signer).toString('hex');
      return fetch(hookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature-ed25519': signature,
          'x-signature-timestamp': timestamp,
        },
        body,
      });
    };
    const ping = await post(JSON.stringify({ id: '1', type: 1, token: 't' }));
    expect(ping.status).toBe(200);
    expect(await ping.json()).toEqual({ type: 1 });
    const forged = await post(
      JSON.stringify({ id: '1', type: 1, token: 't' }),
      generateKeyPairSync('ed25519').privateKey,
    );
    expect(forged.status).toBe(401);
  });
});

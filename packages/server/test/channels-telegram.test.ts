import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CANARY,
  client,
  scriptedAgent,
  startTestServer,
  type TestServer,
} from './support/harness.ts';
import { startTelegramStandIn, type TelegramStandIn } from './support/telegram-stand-in.ts';

/*
 * Agents on Telegram (docs/channels.md) against a local Bot API stand-in: a question answered
 * by a message edited as the answer streams, an approval by inline button, a duplicate update,
 * a 429, a forged webhook, a webhook deleted when its channel is paused or removed, a
 * 6,000-character answer in two messages, groups.
 */

let server: TestServer;
let tg: TelegramStandIn;
let call: ReturnType<typeof client>;
const PUBLIC_URL = 'https://parley.example';
const TOKENS = {
  // The harness fails close() if the canary shows in a log line or a stored event: a bot
  // token is never logged.
  stream: `1001:${CANARY}`,
  approve: '1002:approve',
  long: '1003:long',
  hook: '1004:hook',
  dropped: '1005:dropped',
};

const streamScript = [
  [
    { type: 'text', text: 'Hello ' },
    { type: 'delay', ms: 150 },
    { type: 'text', text: '**there**, ' },
    { type: 'delay', ms: 150 },
    { type: 'text', text: 'friend.' },
  ],
];
const approveScript = [
  [{ type: 'tool_call', name: 'calculator', args: { expression: '6 * 7' }, id: 'call_calc' }],
  [{ type: 'text', text: 'It is 42.' }],
];
const longText = Array.from({ length: 1000 }, (_, i) => `word${String(i).padStart(3, '0')}`).join(
  ' ',
);

async function until<T>(read: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function deployAgent(
  name: string,
  script: unknown[] | undefined,
  token: string,
  extra: object,
) {
  const secret = `TG_${name.toUpperCase()}`;
  expect(
    (await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/${secret}`, { value: token }))
      .status,
  ).toBeLessThan(300);
  const res = await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
    definition: scriptedAgent(name, script, {
      channels: [
        { platform: 'telegram', tokenSecret: secret, mode: 'polling', apiRoot: tg.url, ...extra },
      ],
      ...(name === 'approve'
        ? {
            plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
            requireApproval: ['calculator'],
          }
        : {}),
      ...(name === 'hook' ? { plugins: [SCAM_GUARD] } : {}),
    }),
    deploy: true,
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** The scam-link guard, as scam-guard.test.ts configures it. */
const MIGRATION = 'https://parley.dev/migrate';
const SCAM_GUARD = {
  name: '@parley/plugin-scam-guard',
  version: '^0.1.0',
  config: {
    canonicalDomains: ['parley.dev'],
    brandTokens: ['parley'],
    canonicalLinks: [{ label: 'migration', url: MIGRATION }],
  },
};

let updateId = 1;
const privateMessage = (from: number, text: string) => ({
  update_id: updateId++,
  message: {
    message_id: updateId,
    from: { id: from, is_bot: false, first_name: 'Ada' },
    chat: { id: from, type: 'private' },
    date: 0,
    text,
  },
});
const inChat = (chatId: number) => tg.messages.filter((m) => m.chat_id === String(chatId));
const callsOf = (token: string, method: string) =>
  tg.calls.filter((c) => c.token === token && c.method === method);

beforeAll(async () => {
  tg = await startTelegramStandIn();
  for (const [name, token] of Object.entries(TOKENS)) tg.addBot(token, `${name}_bot`);
  server = await startTestServer({
    engine: 'postgres',
    env: { PARLEY_PUBLIC_URL: PUBLIC_URL },
    tuning: { channelEditIntervalMs: 40 },
  });
  tg.deliverTo = server.url;
  call = client(server.url, server.token);
  await deployAgent('stream', streamScript, TOKENS.stream, {});
  await deployAgent('approve', approveScript, TOKENS.approve, {});
  await deployAgent('long', [[{ type: 'text', text: longText }]], TOKENS.long, {});
  await deployAgent('hook', undefined, TOKENS.hook, { mode: 'webhook' });
  // Polling channels are listening once their first getUpdates went out.
  for (const token of [TOKENS.stream, TOKENS.approve, TOKENS.long])
    await until(() => callsOf(token, 'getUpdates').length > 0, `${token} polling`);
  await until(() => tg.webhookOf(TOKENS.hook), 'the webhook registered');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await tg?.close();
});

describe('Telegram channels', () => {
  it('answers a private message by editing one reply as the answer streams, typing first', async () => {
    await tg.push(TOKENS.stream, privateMessage(501, 'hi'));
    const reply = await until(
      () => inChat(501).find((m) => m.text === 'Hello <b>there</b>, friend.'),
      'the whole answer',
    );
    expect(inChat(501)).toHaveLength(1);
    expect(reply.versions.length).toBeGreaterThan(1);
    expect(reply.versions[0]).toBe('Hello ');
    const typing = callsOf(TOKENS.stream, 'sendChatAction');
    expect(typing[0]?.body).toMatchObject({ chat_id: '501', action: 'typing' });
    expect(typing[0]!.at).toBeLessThanOrEqual(callsOf(TOKENS.stream, 'sendMessage')[0]!.at);
    // The run is the end user's, in the chat's conversation; the next message continues it.
    await tg.push(TOKENS.stream, privateMessage(501, 'again'));
    await until(
      () => inChat(501).length === 2 && inChat(501)[1]!.text.endsWith('friend.'),
      'a second answer',
    );
    const runs = (await (
      await call('GET', `/v1/workspaces/${server.workspaceId}/runs`)
    ).json()) as {
      conversationId: string;
    }[];
    const conversations = new Set(runs.map((r) => r.conversationId));
    const conversation = await server.store.withWorkspace(server.workspaceId, (ws) =>
      ws.conversations.get([...conversations][0]!),
    );
    expect(conversation?.userId).toBe('telegram:501');
  });

  it('asks for a tool approval with inline buttons; only the asker’s press runs the tool', async () => {
    await tg.push(TOKENS.approve, privateMessage(601, 'what is 6 * 7?'));
    const prompt = await until(() => inChat(601).find((m) => m.keyboard), 'the approval prompt');
    expect(prompt.text).toContain('<b>calculator</b>');
    const [allow, deny] = prompt.keyboard![0]!;
    expect([allow!.text, deny!.text]).toEqual(['Allow', 'Deny']);
    const press = (from: number, data: string) => ({
      update_id: updateId++,
      callback_query: {
        id: `cq-${updateId}`,
        from: { id: from, is_bot: false, first_name: 'X' },
        message: { message_id: prompt.message_id, chat: { id: 601, type: 'private' } },
        chat_instance: '1',
        data,
      },
    });
    // Someone else's press is refused, and said so.
    await tg.push(TOKENS.approve, press(999, allow!.callback_data));
    await until(
      () =>
        callsOf(TOKENS.approve, 'answerCallbackQuery').find((c) =>
          String(c.body.text).includes('Only the person'),
        ),
      'the refusal',
    );
    await tg.push(TOKENS.approve, press(601, allow!.callback_data));
    await until(() => inChat(601).find((m) => m.text === 'It is 42.'), 'the answer after the tool');
    // The prompt's edit and the answer race: both come.
    await until(() => prompt.text === '✅ Allowed.', 'the prompt edited');
    expect(prompt.keyboard).toBeUndefined();
  });

  it('waits out a 429 for its retry_after before sending again', async () => {
    tg.limitNext('sendMessage', 1);
    await tg.push(TOKENS.stream, privateMessage(701, 'hi'));
    await until(() => inChat(701).find((m) => m.text.endsWith('friend.')), 'the answer', 15_000);
    const sends = tg.calls.filter((c) => c.method === 'sendMessage' && c.body.chat_id === '701');
    expect(sends.map((c) => c.status)).toEqual([429, 200]);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('splits a 6,000-character answer at Telegram’s 4,096 limit', async () => {
    await tg.push(TOKENS.long, privateMessage(801, 'tell me everything'));
    await until(
      () => inChat(801).length === 2 && inChat(801)[1]!.text.endsWith('word999'),
      'both parts',
      15_000,
    );
    const [first, second] = inChat(801);
    expect(longText.length).toBeGreaterThan(6_000);
    expect(first!.text.length).toBeLessThanOrEqual(4096);
    expect(`${first!.text}${second!.text}`).toBe(longText);
  });

  it('in a group, answers only when mentioned', async () => {
    const group = (text: string) => ({
      update_id: updateId++,
      message: {
        message_id: updateId,
        from: { id: 901, is_bot: false, first_name: 'Bo' },
        chat: { id: -900, type: 'supergroup', title: 'g' },
        date: 0,
        text,
      },
    });
    await tg.push(TOKENS.stream, group('just chatting'));
    await tg.push(TOKENS.stream, group('@stream_bot hi'));
    await until(
      () => inChat(-900).find((m) => m.text.endsWith('friend.')),
      'the answer in the group',
    );
    expect(inChat(-900)).toHaveLength(1);
  });

  it('passes an inbound message through the scam-link guard: the model never sees the lookalike', async () => {
    const lure =
      'Is https://parley-migration.com/claim the new portal? They told me to migrate your wallet today.';
    await tg.push(TOKENS.hook, privateMessage(1301, lure));
    const answer = await until(() => inChat(1301)[0], 'the answer');
    await until(() => inChat(1301)[0]!.text.includes(MIGRATION), 'the canonical link');
    expect(answer.text).not.toContain('parley-migration.com');
    const signals = (await (
      await call(
        'GET',
        `/v1/workspaces/${server.workspaceId}/security-signals?kind=scam.link_blocked`,
      )
    ).json()) as { details: { links: { domain: string }[] } }[];
    expect(signals[0]?.details.links).toEqual([
      expect.objectContaining({ domain: 'parley-migration.com' }),
    ]);
  });

  it('a deploy without the channel closes it; one with it again reopens it', async () => {
    const statuses = () => server.app.services.channels.statuses(server.workspaceId);
    expect(statuses().map((c) => c.platform)).toEqual([
      'telegram',
      'telegram',
      'telegram',
      'telegram',
    ]);
    const deploy = async (channels: unknown[]) => {
      const res = await call('POST', `/v1/workspaces/${server.workspaceId}/agents/long/versions`, {
        definition: scriptedAgent('long', [[{ type: 'text', text: longText }]], { channels }),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      expect(((await res.json()) as { created: boolean }).created).toBe(true);
    };
    await deploy([]);
    await until(() => statuses().length === 3, 'the channel closed');
    const polls = callsOf(TOKENS.long, 'getUpdates').length;
    await tg.push(TOKENS.long, privateMessage(1201, 'anyone there?'));
    // Another bot's answer takes a poll round trip: the closed one polled no more meanwhile.
    await tg.push(TOKENS.stream, privateMessage(1202, 'hi'));
    await until(
      () => inChat(1202).find((m) => m.text.endsWith('friend.')),
      'the other bot’s answer',
    );
    expect(callsOf(TOKENS.long, 'getUpdates')).toHaveLength(polls);
    expect(inChat(1201)).toHaveLength(0);
    await deploy([
      { platform: 'telegram', tokenSecret: 'TG_LONG', mode: 'polling', apiRoot: tg.url },
    ]);
    // The queued message is answered once the channel polls again.
    await until(() => inChat(1201).length === 2, 'the reopened channel’s answer', 15_000);
  });

  it('lists its channels, checks a token with getMe, and pauses a channel', async () => {
    const ws = `/v1/workspaces/${server.workspaceId}`;
    const listed = (await (await call('GET', `${ws}/channels`)).json()) as {
      platform: string;
      state: string;
      listening: boolean;
    }[];
    expect(listed.length).toBeGreaterThanOrEqual(3);
    expect(listed.every((c) => c.platform === 'telegram' && c.listening)).toBe(true);
    const check = await call('POST', `${ws}/channels/check`, {
      platform: 'telegram',
      tokenSecret: 'TG_STREAM',
      apiRoot: tg.url,
    });
    expect(await check.json()).toEqual({ platform: 'telegram', bot: '@stream_bot' });
    await call('PUT', `${ws}/secrets/TG_WRONG`, { value: '999:unknown' });
    const refused = await call('POST', `${ws}/channels/check`, {
      platform: 'telegram',
      tokenSecret: 'TG_WRONG',
      apiRoot: tg.url,
    });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'channel.token_refused' });
    const missing = await call('POST', `${ws}/channels/check`, {
      platform: 'telegram',
      tokenSecret: 'TG_NOBODY',
    });
    expect(missing.status).toBe(400);

    const res = await call('POST', `${ws}/agents/approve/versions`, {
      definition: scriptedAgent('approve', approveScript, {
        channels: [
          {
            platform: 'telegram',
            tokenSecret: 'TG_APPROVE',
            mode: 'polling',
            apiRoot: tg.url,
            paused: true,
          },
        ],
        plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
        requireApproval: ['calculator'],
      }),
    });
    expect(res.status).toBeLessThan(300);
    const paused = async () =>
      ((await (await call('GET', `${ws}/channels`)).json()) as { state: string }[]).filter(
        (c) => c.state === 'paused',
      ).length;
    const end = Date.now() + 10_000;
    while ((await paused()) !== 1 && Date.now() < end)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await paused()).toBe(1);
  });

  it('webhook: registered with a secret token; a forged call is refused, a duplicate ignored', async () => {
    const hook = tg.webhookOf(TOKENS.hook)!;
    expect(hook.url).toMatch(
      new RegExp(`^${PUBLIC_URL}/v1/channels/${server.workspaceId}/[0-9a-f-]+/telegram/webhook$`),
    );
    expect(hook.secret).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    const update = privateMessage(1101, 'ping');
    const forged = await fetch(`${server.url}${new URL(hook.url).pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'guess' },
      body: JSON.stringify(update),
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { code: string }).code).toBe('auth.invalid_token');
    expect((await tg.push(TOKENS.hook, update))!.status).toBe(200);
    expect((await tg.push(TOKENS.hook, update))!.status).toBe(200);
    await until(() => inChat(1101).find((m) => m.text === '(scripted) ping'), 'the echo');
    // The duplicate was dropped before its delivery was answered: the next answer is the next message’s.
    await tg.push(TOKENS.hook, privateMessage(1101, 'pong'));
    await until(() => inChat(1101).find((m) => m.text === '(scripted) pong'), 'the next echo');
    expect(inChat(1101).map((m) => m.text)).toEqual(['(scripted) ping', '(scripted) pong']);
  });

  it('webhook: a paused or removed channel’s webhook is deleted, a resumed one registered again', async () => {
    const entry = {
      platform: 'telegram',
      tokenSecret: 'TG_DROPPED',
      mode: 'webhook',
      apiRoot: tg.url,
    };
    await deployAgent('dropped', undefined, TOKENS.dropped, { mode: 'webhook' });
    await until(() => tg.webhookOf(TOKENS.dropped), 'the webhook registered');
    const deploy = async (channels: object[]) => {
      const res = await call(
        'POST',
        `/v1/workspaces/${server.workspaceId}/agents/dropped/versions`,
        {
          definition: scriptedAgent('dropped', undefined, { channels }),
        },
      );
      expect(res.status).toBe(201);
    };
    await deploy([{ ...entry, paused: true }]);
    await until(
      () => !tg.webhookOf(TOKENS.dropped) && true,
      'the paused channel’s webhook deleted',
    );
    await deploy([entry]);
    await until(() => tg.webhookOf(TOKENS.dropped), 'the resumed channel’s webhook');
    await deploy([]);
    await until(
      () => !tg.webhookOf(TOKENS.dropped) && true,
      'the removed channel’s webhook deleted',
    );
    expect(callsOf(TOKENS.dropped, 'setWebhook')).toHaveLength(2);
    expect(callsOf(TOKENS.dropped, 'deleteWebhook')).toHaveLength(2);
  });
});

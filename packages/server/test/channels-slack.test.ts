import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, scriptedAgent, startTestServer, type TestServer } from './support/harness.ts';
import { type SlackStandIn, startSlackStandIn } from './support/slack-stand-in.ts';

/*
 * An agent on Slack (docs/channels.md) against a local Slack: the Events API's url_verification,
 * a DM answered by a message updated as the answer streams, a mention answered in its thread
 * once (though two events carry it), a Block Kit approval, a 429, forged and stale signatures.
 */

const TOKEN = 'xoxb-test-token';
const SIGNING = 'slack-signing-secret';
const BOT = 'UPARLEY';
let server: TestServer;
let slack: SlackStandIn;
let hookUrl: string;

const script = [
  [{ type: 'tool_call', name: 'calculator', args: { expression: '6 * 7' }, id: 'call_calc' }],
  [
    { type: 'text', text: 'It is ' },
    { type: 'delay', ms: 120 },
    { type: 'text', text: '**42**.' },
  ],
];
const streamed = [
  [
    { type: 'text', text: 'Hello ' },
    { type: 'delay', ms: 120 },
    { type: 'text', text: '**there** ' },
    { type: 'delay', ms: 120 },
    { type: 'text', text: '& friend.' },
  ],
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

let eventId = 1;
const eventOf = (event: Record<string, unknown>) => ({
  token: 'deprecated',
  team_id: 'T1',
  api_app_id: 'A1',
  type: 'event_callback',
  event_id: `Ev${eventId++}`,
  event_time: Math.floor(Date.now() / 1000),
  event,
});
let tsClock = 1;
const nextTs = () => `1800000000.${String(tsClock++).padStart(6, '0')}`;
const dm = (user: string, text: string, ts = nextTs()) =>
  eventOf({ type: 'message', channel: `D${user}`, channel_type: 'im', user, text, ts });
const inChannel = (channel: string) => slack.messages.filter((m) => m.channel === channel);

async function deploy(name: string, agentScript: unknown[], extra: object = {}) {
  const call = client(server.url, server.token);
  const res = await call('POST', `/v1/workspaces/${server.workspaceId}/agents`, {
    definition: scriptedAgent(name, agentScript, {
      channels: [
        {
          platform: 'slack',
          tokenSecret: 'SLACK_BOT_TOKEN',
          signingSecret: 'SLACK_SIGNING_SECRET',
          mode: 'webhook',
          apiRoot: `${slack.url}/api`,
        },
      ],
      ...extra,
    }),
    deploy: true,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const agentId = ((await res.json()) as { agent: { id: string } }).agent.id;
  return `${server.url}/v1/channels/${server.workspaceId}/${agentId}/slack/webhook`;
}

beforeAll(async () => {
  slack = await startSlackStandIn({ token: TOKEN, signingSecret: SIGNING, botUserId: BOT });
  server = await startTestServer({ engine: 'postgres', tuning: { channelEditIntervalMs: 40 } });
  const call = client(server.url, server.token);
  for (const [name, value] of [
    ['SLACK_BOT_TOKEN', TOKEN],
    ['SLACK_SIGNING_SECRET', SIGNING],
  ])
    expect(
      (await call('PUT', `/v1/workspaces/${server.workspaceId}/secrets/${name}`, { value })).status,
    ).toBeLessThan(300);
  hookUrl = await deploy('slacker', script, {
    plugins: [{ name: '@parley/plugin-basics', version: '^0.1.0' }],
    requireApproval: ['calculator'],
  });
  await until(() => slack.calls.some((c) => c.method === 'auth.test'), 'the token checked');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await slack?.close();
});

describe('Slack channel', () => {
  it('answers url_verification with its challenge', async () => {
    const res = await slack.sendEvent(hookUrl, {
      token: 'x',
      challenge: 'c-123',
      type: 'url_verification',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'c-123' });
  });

  it('refuses a forged signature and a replayed (stale) one', async () => {
    const forged = await slack.sendEvent(hookUrl, dm('U1', 'hi'), { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { code: string }).code).toBe('auth.invalid_token');
    const stale = await slack.sendEvent(hookUrl, dm('U1', 'hi'), {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    expect(inChannel('DU1')).toHaveLength(0);
  });

  it('asks for approval with Block Kit buttons in the thread of a mention, answered once', async () => {
    const ts = nextTs();
    const text = `<@${BOT}> what is 6 * 7?`;
    const common = { channel: 'C1', user: 'U2', text, ts };
    // Slack sends the mention as app_mention and (message.channels) as message: one answer.
    expect(
      (await slack.sendEvent(hookUrl, eventOf({ type: 'app_mention', ...common }))).status,
    ).toBe(200);
    expect(
      (
        await slack.sendEvent(
          hookUrl,
          eventOf({ type: 'message', channel_type: 'channel', ...common }),
        )
      ).status,
    ).toBe(200);
    const prompt = await until(() => inChannel('C1').find((m) => m.blocks), 'the approval prompt');
    expect(prompt.thread_ts).toBe(ts);
    expect(prompt.text).toContain('*calculator*');
    const buttons = prompt.blocks!.find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => b.text?.text)).toEqual(['Allow', 'Deny']);
    const action = (user: string) => ({
      type: 'block_actions',
      user: { id: user },
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: prompt.ts, channel_id: 'C1' },
      message: { ts: prompt.ts, thread_ts: ts },
      actions: [
        { action_id: 'parley_0', value: buttons[0]!.value, action_ts: `${Date.now()}.${user}` },
      ],
    });
    expect((await slack.sendAction(hookUrl, action('U2'))).status).toBe(200);
    const answer = await until(
      () => inChannel('C1').find((m) => m.text === 'It is *42*.'),
      'the answer',
    );
    expect(answer.thread_ts).toBe(ts);
    // The prompt's edit and the answer race: both come.
    await until(() => prompt.text === '✅ Allowed.', 'the prompt edited');
    expect(prompt.blocks).toBeUndefined();
    expect(inChannel('C1')).toHaveLength(2);
  });

  it('streams a DM by chat.update, waits out a 429, ignores a retried event', async () => {
    const hookUrl2 = await deploy('streamer', streamed);
    await until(
      () => slack.calls.filter((c) => c.method === 'auth.test').length >= 2,
      'the second app',
    );
    slack.limitNext('chat.postMessage', 1);
    const event = dm('U3', 'hi');
    expect((await slack.sendEvent(hookUrl2, event)).status).toBe(200);
    expect((await slack.sendEvent(hookUrl2, event, { retry: 1 })).status).toBe(200);
    const reply = await until(
      () => inChannel('DU3').find((m) => m.text === 'Hello *there* &amp; friend.'),
      'the answer',
      15_000,
    );
    expect(reply.versions.length).toBeGreaterThan(1);
    const posts = slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && c.body.channel === 'DU3',
    );
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_000);
    // The next message is answered in the same DM: the retried event never was.
    await slack.sendEvent(hookUrl2, dm('U3', 'again'));
    await until(
      () => inChannel('DU3').length === 2 && inChannel('DU3')[1]!.text.endsWith('friend.'),
      'the next answer',
    );
  });
});

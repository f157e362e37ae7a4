import { startTelegramStandIn, type TelegramStandIn } from '@parley/server/testing/telegram';
import { expect, type Page, test } from '@playwright/test';
import { createScriptedAgent, type Parley, startParley } from './support/parley.ts';

// The Channels view (docs/channels.md) in a real browser against a real server: connecting a
// Telegram bot stores its token, asks Telegram who it is and only then deploys the agent with
// the channel; the list shows the channel as the server runs it; pause and resume deploy again.
// Telegram's Bot API is a local stand-in (the form's API root, as `--api-root` in the CLI).

const TOKEN = '7001:lamp-bot-token';

let parley: Parley;
let telegram: TelegramStandIn;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  telegram = await startTelegramStandIn();
  telegram.addBot(TOKEN, 'lamp_bot');
  parley = await startParley();
  await createScriptedAgent(parley, 'support-bot', [[{ type: 'text', text: 'Hello.' }]]);
});
test.afterAll(async () => {
  await parley?.stop();
  await telegram?.close();
});

/** Fills the connect form for support-bot on Telegram (polling) and sends it. */
async function connect(page: Page, token: string) {
  const form = page.getByRole('form', { name: 'Connect a channel' });
  await expect(form.getByLabel('Agent')).toHaveValue(/.+/);
  await form.getByLabel('Bot token').fill(token);
  await form.getByLabel('API root').fill(telegram.url);
  await form.getByRole('button', { name: 'Check the token and connect' }).click();
  return form;
}

/** The channel's row once the server shows it in `state` (the list is read on load). */
async function rowIn(page: Page, state: RegExp) {
  const row = page.getByRole('row', { name: /support-bot telegram polling/ });
  await expect(async () => {
    await page.reload();
    await expect(row.getByRole('cell').nth(3)).toHaveText(state, { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  return row;
}

/** Presses pause or resume and waits for its deploy to be answered (a reload would cut it). */
async function press(page: Page, button: string) {
  const deployed = page.waitForResponse(
    (r) => r.request().method() === 'POST' && r.url().endsWith('/versions'),
  );
  await page.getByRole('button', { name: button }).click();
  expect((await deployed).status()).toBe(201);
}

const deployedChannels = async () =>
  ((await parley.api.agents.get(parley.workspaceId, 'support-bot')).version?.definition.channels ??
    []) as Record<string, unknown>[];

test('a token Telegram refuses is said so, and nothing is deployed', async ({ page }) => {
  await page.goto(`${parley.url}/channels`);
  await expect(page.getByText('No agent is on a chat platform yet.')).toBeVisible();
  const form = await connect(page, '7002:not-a-bot');
  await expect(form.getByRole('alert')).toHaveText(
    /^The platform refused this token\. .*Unauthorized/,
  );
  expect(telegram.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['getMe 401']);
  expect(await deployedChannels()).toEqual([]);
  expect((await parley.api.agents.versions(parley.workspaceId, 'support-bot')).length).toBe(1);
});

test('connects a bot, lists its channel as the server runs it, pauses and resumes it', async ({
  page,
}) => {
  await page.goto(`${parley.url}/channels`);
  const form = await connect(page, TOKEN);
  await expect(form.getByRole('status')).toHaveText(
    'support-bot answers on telegram as @lamp_bot (deployed v2).',
  );
  expect(await deployedChannels()).toEqual([
    {
      platform: 'telegram',
      tokenSecret: 'TELEGRAM_BOT_TOKEN',
      mode: 'polling',
      apiRoot: telegram.url,
      mentionsOnly: true, // the server's default, filled in on deploy
    },
  ]);
  const secrets = await parley.api.secrets.list(parley.workspaceId);
  expect(secrets.find((s) => s.name === 'TELEGRAM_BOT_TOKEN')?.last4).toBe('oken');
  // The server polls the stand-in with the stored token: connected, here.
  await rowIn(page, /^connected \(listening here\)$/);
  expect(telegram.calls.some((c) => c.token === TOKEN && c.method === 'getUpdates')).toBe(true);

  await press(page, 'Pause support-bot on telegram');
  await rowIn(page, /^paused$/);
  expect(await deployedChannels()).toEqual([expect.objectContaining({ paused: true })]);

  await press(page, 'Resume support-bot on telegram');
  await rowIn(page, /^connected \(listening here\)$/);
  expect((await deployedChannels())[0]).not.toHaveProperty('paused');
});

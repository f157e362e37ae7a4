import { expect, test } from '@playwright/test';
import { type CuttingProxy, startCuttingProxy } from './support/cutting-proxy.ts';
import { createScriptedAgent, type Parley, startParley } from './support/parley.ts';

// The chat against a real single-user server with scripted agents: a tool call that waits
// for approval, stopping an answer mid-stream, and a connection cut mid-stream that the page
// recovers from. The browser reaches the server through a proxy the test can cut.

const DEMO = [
  [
    { type: 'reasoning', text: 'I will use the calculator.' },
    {
      type: 'tool_call',
      name: 'calculator',
      args: { expression: '6 * 7' },
      deltas: ['{"expres', 'sion": "6', ' * 7"}'],
    },
  ],
  [{ type: 'text', text: 'The calculator says 42.' }],
];

let parley: Parley;
let proxy: CuttingProxy;
test.beforeAll(async () => {
  parley = await startParley();
  proxy = await startCuttingProxy(parley.url);
  await createScriptedAgent(parley, 'careful', DEMO, { requireApproval: ['calculator'] });
  await createScriptedAgent(parley, 'gated', DEMO, { requireApproval: ['calculator'] });
  await createScriptedAgent(parley, 'talker', [
    [
      { type: 'text', text: 'Counting slowly: one,' },
      { type: 'delay', ms: 100 },
      { type: 'text', text: ' two,' },
      { type: 'hang' },
    ],
  ]);
  await createScriptedAgent(parley, 'wordy', [
    [
      { type: 'reasoning', text: 'Let me think about it.' },
      { type: 'delay', ms: 200 },
      {
        type: 'tool_call',
        name: 'calculator',
        args: { expression: '6 * 7' },
        deltas: ['{"expres', 'sion": "6', ' * 7"}'],
      },
    ],
    [
      { type: 'text', text: 'The calculator says 42. '.repeat(3) },
      { type: 'delay', ms: 200 },
      {
        type: 'text',
        text: 'Here are more words, enough to wrap the line a few times. '.repeat(8),
      },
      { type: 'delay', ms: 200 },
      { type: 'text', text: 'The end.' },
    ],
  ]);
  // Part two waits for the test, not for a clock: the run stops for an approval after part
  // one, so the connection is cut while nothing else can reach the page. (It used to wait 3 s
  // and the test had to cut within them; under CPU load it sometimes did not.)
  await createScriptedAgent(
    parley,
    'slow',
    [
      [
        { type: 'text', text: 'Part one.' },
        { type: 'tool_call', name: 'calculator', args: { expression: '1 + 1' } },
      ],
      [
        { type: 'text', text: 'Part two.' },
        { type: 'delay', ms: 200 },
        { type: 'text', text: ' The end.' },
      ],
    ],
    { requireApproval: ['calculator'] },
  );
});
test.afterAll(async () => {
  await proxy?.close();
  await parley?.stop();
});

async function runsOf(agent: string) {
  const { agent: info } = await parley.api.agents.get(parley.workspaceId, agent);
  return parley.api.runs.list(parley.workspaceId, { agentId: info.id });
}

test('a tool call waits for approval, fills in, and shows its result; a denial shows too', async ({
  page,
}) => {
  await page.goto(`${proxy.url}/chat/careful`);
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill('What is 6 * 7?');
  await composer.press('Enter'); // the keyboard sends
  const card = page.getByRole('region', { name: 'Tool call calculator' }).last();
  await expect(card).toContainText('waiting for your approval');
  await expect(card).toContainText('"expression": "6 * 7"');
  await card.getByRole('button', { name: 'Approve' }).click();
  await expect(card).toContainText('"result": 42');
  await expect(card).toContainText('done');
  await expect(page.locator('.turn').last()).toContainText('The calculator says 42.');
  // The new conversation is in the list and in the URL.
  await expect(page).toHaveURL(/\?c=[0-9a-f-]{36}$/);
  await expect(page.getByRole('complementary', { name: 'Conversations' })).toContainText(
    'What is 6 * 7?',
  );

  await composer.fill('Again, please');
  await page.getByRole('button', { name: 'Send' }).click();
  const second = page.getByRole('region', { name: 'Tool call calculator' }).last();
  await second.getByRole('button', { name: 'Deny' }).click();
  await expect(second).toContainText('failed');
  await expect(page.locator('.turn')).toHaveCount(2);

  // Both turns are stored: a reload shows the same conversation from the server.
  await page.reload();
  await expect(page.locator('.turn')).toHaveCount(2);
  await expect(page.locator('.turn').first()).toContainText('"result": 42');
  const runs = await runsOf('careful');
  expect(runs.map((r) => r.status).sort()).toEqual(['succeeded', 'succeeded']);

  // Each turn opens its run's trace: the waterfall of its model calls, the wait for the
  // person's approval and the tool, from the run's stored events.
  await page.locator('.turn').first().getByRole('link', { name: 'Trace' }).click();
  const waterfall = page.getByRole('list', { name: 'Waterfall' });
  await expect(waterfall.locator('[data-kind="step"]')).toHaveCount(2);
  await expect(waterfall.locator('[data-kind="approval"]')).toContainText('waiting for approval');
  await expect(waterfall.locator('[data-kind="tool"]')).toContainText('tool: calculator');
  await expect(page.getByTestId('trace-id')).toHaveText(/^[0-9a-f]{32}$/);
  // And back to the chat it came from; the runs list reaches the same traces.
  await page.getByRole('link', { name: 'Its chat' }).click();
  await expect(page.locator('.turn')).toHaveCount(2);
  await page.goto(`${proxy.url}/runs`);
  await expect(page.getByRole('link', { name: 'Trace' })).not.toHaveCount(0);
});

test('Stop cancels the answer mid-stream and keeps what was written', async ({ page }) => {
  await page.goto(`${proxy.url}/chat/talker`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Count for me');
  await page.getByRole('button', { name: 'Send' }).click();
  const turn = page.locator('.turn').last();
  await expect(turn).toContainText('Counting slowly: one, two,');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(turn).toContainText('Stopped.');
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
  await expect(turn).toContainText('Counting slowly: one, two,');
  await expect.poll(async () => (await runsOf('talker'))[0]?.status).toBe('cancelled');
});

test('a connection cut mid-stream is resumed and the answer completes, once', async ({ page }) => {
  await page.goto(`${proxy.url}/chat/slow`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Tell me in parts');
  await page.getByRole('button', { name: 'Send' }).click();
  const turn = page.locator('.turn').last();
  await expect(turn).toContainText('Part one.');
  const card = turn.getByRole('region', { name: 'Tool call calculator' });
  await expect(card).toContainText('waiting for your approval');
  proxy.cut(); // the stream drops; reconnections are refused until restore()
  await expect(turn).toContainText('Connection lost: reconnecting…');
  proxy.restore();
  // The run goes on once approved; the rest reaches the page only through the resumed stream
  // (the page says "reconnecting" until the next event arrives), and arrives once.
  await card.getByRole('button', { name: 'Approve' }).click();
  await expect(turn.locator('p.text')).toHaveText(['Part one.', 'Part two. The end.']);
  await expect(turn).not.toContainText('reconnecting');
  await expect(turn.getByTestId('tokens-out')).not.toHaveText('—');
  // One run: the page resumed it, it did not send the message again.
  const runs = await runsOf('slow');
  expect(runs).toHaveLength(1);
  expect(runs[0]!.status).toBe('succeeded');
});

test('a reload mid-answer follows the run live where it is (here: waiting for approval)', async ({
  page,
}) => {
  await page.goto(`${proxy.url}/chat/gated`);
  await page.getByRole('textbox', { name: 'Message' }).fill('What is 6 * 7?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('button', { name: 'Approve' })).toBeVisible();
  await expect(page).toHaveURL(/\?c=/);
  await page.reload();
  // Only a live stream can offer the decision again: the stored messages have no buttons.
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.locator('.turn').last()).toContainText('The calculator says 42.');
  await expect(page.locator('.turn')).toHaveCount(1);
  const runs = await runsOf('gated');
  expect(runs.map((r) => r.status)).toEqual(['succeeded']);
});

test('offline: the turn says so, and the next message goes through once back online', async ({
  page,
  context,
}) => {
  await page.goto(`${proxy.url}/chat/careful`);
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  await context.setOffline(true);
  await page.getByRole('textbox', { name: 'Message' }).fill('Are you there?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('.turn').last().getByRole('alert')).toContainText(
    'Check your connection',
  );
  await context.setOffline(false);
  await page.getByRole('textbox', { name: 'Message' }).fill('What is 6 * 7?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('.turn').last()).toContainText('waiting for your approval');
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.locator('.turn').last()).toContainText('The calculator says 42.');
});

test('nothing on the page moves while a reply streams (no layout shift)', async ({ page }) => {
  await page.goto(`${proxy.url}/chat/wordy`);
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  // Chromium reports every layout shift (an element whose position changed between frames).
  await page.evaluate(`
    window.shifts = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        window.shifts.push({
          value: entry.value,
          nodes: entry.sources.map((s) => s.node ? (s.node.className || s.node.nodeName) + ' ' + (s.node.textContent || '').slice(0, 30) : '?'),
        });
    }).observe({ type: 'layout-shift' });
  `);
  await page.getByRole('textbox', { name: 'Message' }).fill('Explain 6 * 7');
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(page.locator('.turn').last()).toContainText('The end.');
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
  const shifts = await page.evaluate<{ value: number; nodes: string[] }[]>('window.shifts');
  expect(shifts, JSON.stringify(shifts)).toEqual([]);
});

test('an API token is shown once, then only as its prefix and last 4, and can be revoked', async ({
  page,
}) => {
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(`${proxy.url}/tokens`);
  await page.getByLabel('Name').fill('support site');
  await page.getByRole('button', { name: 'Create token' }).click();
  const value = (await page.getByTestId('new-token').locator('code').textContent())!;
  expect(value).toMatch(/^prl_/);
  // The API agrees it works, with the scopes chosen.
  const me = await fetch(`${proxy.url}/v1/me`, { headers: { authorization: `Bearer ${value}` } });
  expect(((await me.json()) as { token: { scopes: string[] } }).token.scopes.sort()).toEqual([
    'agents:read',
    'runs:create',
    'runs:read',
  ]);
  await page.reload();
  await expect(page.locator('body')).not.toContainText(value);
  const row = page.getByRole('row', { name: /support site/ });
  await expect(row).toContainText(value.slice(-4));
  await row.getByRole('button', { name: /Revoke/ }).click();
  await expect(row).toContainText('revoked');
  const after = await fetch(`${proxy.url}/v1/me`, {
    headers: { authorization: `Bearer ${value}` },
  });
  expect(after.status).toBe(401);
});

test('at 375 px wide the chat and the views fit without sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  for (const path of ['/chat/careful', '/agents', '/tokens', '/secrets', '/audit', '/usage']) {
    await page.goto(`${proxy.url}${path}`);
    await expect(page.locator('h1'), path).toBeVisible();
    // (A string: this file is type-checked without the DOM library.)
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
});

test('the keyboard alone reaches the chat, with the focus always visible', async ({ page }) => {
  await page.goto(`${proxy.url}/agents`);
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  // (The page's globals by name: this file is type-checked without the DOM library.)
  const outline = await skip.evaluate(
    (el) =>
      (
        globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } }
      ).getComputedStyle(el).outlineStyle,
  );
  expect(outline).toBe('solid');
  // Follow the agent's Chat link from the keyboard, then type and send with Enter.
  const chat = page.getByRole('link', { name: 'Chat', exact: true }).first();
  await chat.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/chat\//);
  // Moving to a page puts the focus on its heading (where screen readers start reading).
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
  await page.getByRole('textbox', { name: 'Message' }).focus();
  await page.keyboard.type('What is 6 * 7?');
  await page.keyboard.press('Enter');
  await expect(page.locator('.turn').last()).toContainText('What is 6 * 7?');
});

import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { expect, type Page, test } from '@playwright/test';
import { type Parley, startParley } from './support/parley.ts';

// The first five minutes, in a real browser against a real single-user server: from an empty
// workspace to a deployed agent, a screenshot of every step kept as a test artifact.

const run = promisify(execFile);

let parley: Parley;
test.beforeAll(async () => {
  parley = await startParley();
});
test.afterAll(async () => {
  await parley?.stop();
});

async function snap(page: Page, name: string) {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await test.info().attach(name, { path, contentType: 'image/png' });
}

/** The server's funnel, events per step (an operator's view: the local owner's session may read it). */
async function funnelEvents(page: Page): Promise<Record<string, number>> {
  const response = await page.request.get(`${parley.url}/v1/instance/funnel`);
  expect(response.status()).toBe(200);
  const funnel = (await response.json()) as { steps: { step: string; events: number }[] };
  return Object.fromEntries(funnel.steps.map((s) => [s.step, s.events]));
}

test('onboarding: describe, pick the offline demo, chat, deploy; a returning visit resumes', async ({
  page,
}) => {
  await page.goto(parley.url);
  // No agent yet: the local session opens, and onboarding starts at step 1.
  await expect(page.getByRole('heading', { name: 'Step 1 of 4: Describe' })).toBeVisible();
  await page.getByRole('radio', { name: /Customer support/ }).check();
  await expect(page.getByLabel('Name')).toHaveValue('support-bot');
  await page.getByLabel('What it does').fill('Answers questions about Parley.');
  await snap(page, 'onboarding-1-describe');
  await page.getByRole('button', { name: 'Create agent' }).click();

  await expect(page.getByRole('heading', { name: 'Step 2 of 4: Model and key' })).toBeVisible();
  // Step 1 is recorded as an agent created; no provider is chosen until step 2.
  await expect
    .poll(() => funnelEvents(page))
    .toMatchObject({ agent_created: 1, provider_selected: 0 });
  await expect(page.getByRole('radio', { name: /Offline demo/ })).toBeChecked();
  // Choosing a real provider asks for its key (write-only).
  await page.getByRole('radio', { name: /Anthropic/ }).check();
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue('claude-sonnet-4-5');
  await expect(page.getByLabel(/API key/)).toHaveAttribute('type', 'password');
  await page.getByRole('radio', { name: /Offline demo/ }).check();
  await snap(page, 'onboarding-2-model');
  await page.getByRole('button', { name: 'Use the offline demo' }).click();

  await expect(page.getByRole('heading', { name: 'Step 3 of 4: Try it' })).toBeVisible();
  await expect.poll(() => funnelEvents(page)).toMatchObject({ provider_selected: 1, first_run: 0 });
  // A returning visit (here: the start page again) resumes at the step reached.
  await page.goto(parley.url);
  await expect(page.getByRole('heading', { name: 'Step 3 of 4: Try it' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Continue to deploy' })).toBeDisabled();

  await page.getByRole('button', { name: 'What is 6 * 7?' }).click();
  const turn = page.locator('.turn').last();
  await expect(turn.getByRole('region', { name: 'Tool call calculator' })).toContainText(
    '"result": 42',
  );
  await expect(turn).toContainText('The calculator says 6 * 7 = 42.');
  await expect(turn.getByTestId('ttft')).not.toHaveText('—');
  await expect(turn.getByTestId('tokens-out')).not.toHaveText('—');
  await expect(turn.locator('details.reasoning')).toContainText('Reasoning');
  await snap(page, 'onboarding-3-chat');
  await page.getByRole('button', { name: 'Continue to deploy' }).click();

  await expect(page.getByRole('heading', { name: 'Step 4 of 4: Deploy' })).toBeVisible();
  await snap(page, 'onboarding-4-deploy');
  await page.getByRole('button', { name: 'Deploy version 1' }).click();
  await expect(page.getByText('support-bot is deployed (version 1).')).toBeVisible();
  await expect(page.locator('.snippet').first()).toContainText(
    `${parley.url}/v1/workspaces/${parley.workspaceId}/agents/support-bot/runs`,
  );
  await expect(page.locator('.snippet').nth(1)).toContainText('npx parley run');
  await page.getByRole('button', { name: 'Create a token for them' }).click();
  const exported = await page.getByTestId('snippet-token').locator('code').textContent();
  const token = /^export PARLEY_TOKEN=(prl_\S+)$/.exec(exported ?? '')?.[1];
  expect(token).toBeTruthy();
  await snap(page, 'onboarding-5-deployed');

  // The curl snippet, exactly as the page shows it, works with that token.
  const curl = (await page.locator('.snippet pre').first().textContent())!;
  const { stdout } = await run('sh', ['-c', curl], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PARLEY_TOKEN: token! },
  });
  expect(stdout).toContain('"type":"run.finish"');
  expect(stdout).toContain('42.');

  // What the server recorded: the agent is at version 1, one event per onboarding step.
  const { agent } = await parley.api.agents.get(parley.workspaceId, 'support-bot');
  expect(agent.currentVersion).toBe(1);
  await expect
    .poll(() => funnelEvents(page))
    .toEqual({
      signup: 0, // single-user: nobody signs up
      agent_created: 1,
      provider_selected: 1,
      first_run: 1,
      deployed: 1,
    });

  // Onboarding is done: the start page now opens the workspace's agents.
  await page.goto(parley.url);
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'support-bot' }).first()).toBeVisible();

  // The audit log has the deploy, and its filter keeps only that action.
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByLabel('Action').fill('agent.deploy');
  await page.getByRole('button', { name: 'Filter' }).click();
  const rows = page.locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('agent.deploy');
  await expect(rows.first()).toContainText('ok');
});

test('a rejected key and a rate-limited key are said plainly; a good key is stored write-only', async ({
  page,
}) => {
  // An OpenAI-compatible server on loopback that knows one key and throttles another.
  const seen: string[] = [];
  const provider = createServer((request, response) => {
    const auth = request.headers.authorization ?? '';
    seen.push(auth);
    const status =
      request.url !== '/v1/models'
        ? 404
        : auth === 'Bearer good-key-1234'
          ? 200
          : auth === 'Bearer busy-key-5678'
            ? 429
            : 401;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(status === 200 ? { data: [{ id: 'local-model' }] } : { error: {} }),
    );
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  const { port } = provider.address() as AddressInfo;
  try {
    await page.goto(`${parley.url}/setup`);
    await page.getByRole('radio', { name: /Start from scratch/ }).check();
    await page.getByLabel('Name').fill('Local Bot');
    await expect(page.getByText('It will be called “local-bot”.')).toBeVisible();
    await page.getByLabel('Instructions', { exact: true }).fill('You answer briefly.');
    await page.getByRole('button', { name: 'Create agent' }).click();

    await page.getByRole('radio', { name: /OpenAI-compatible/ }).check();
    await page.getByLabel('Base URL', { exact: true }).fill(`http://127.0.0.1:${port}/v1`);
    await page.getByLabel('Model', { exact: true }).fill('local-model');
    const key = page.getByLabel(/API key/);
    const save = page.getByRole('button', { name: 'Save and check the key' });

    await key.fill('wrong-key-0000');
    await save.click();
    await expect(page.getByTestId('key-check')).toContainText(
      'Key rejected. The provider rejected the key (HTTP 401). Paste a valid key.',
    );
    await expect(key).toHaveValue(''); // never kept in the page once stored
    await snap(page, 'key-rejected');

    await key.fill('busy-key-5678');
    await save.click();
    await expect(page.getByTestId('key-check')).toContainText('rate limited right now');
    await expect(page.getByRole('button', { name: 'Continue anyway' })).toBeVisible();

    await key.fill('good-key-1234');
    await save.click();
    await expect(page.getByRole('heading', { name: 'Step 3 of 4: Try it' })).toBeVisible();
    expect(seen).toEqual(['Bearer wrong-key-0000', 'Bearer busy-key-5678', 'Bearer good-key-1234']);

    // The secrets page shows the name and the last 4 characters, never the key.
    await page.goto(`${parley.url}/secrets`);
    const row = page.getByRole('row', { name: /OPENAI_COMPATIBLE_API_KEY/ });
    await expect(row).toContainText('…1234');
    await expect(page.locator('body')).not.toContainText('good-key');
  } finally {
    provider.close();
  }
});

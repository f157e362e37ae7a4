import { type Browser, expect, type Page, test } from '@playwright/test';
import { OPERATOR_CODE, OPERATOR_EMAIL, type Parley, startParley } from './support/parley.ts';

// Two people on a multi-user server, each in a browser context of their own: each signs up,
// creates an agent and talks to it, and neither ever sees the other's agents, conversations,
// members or secrets, even by typing the other's URLs.

let parley: Parley;
test.beforeAll(async () => {
  parley = await startParley({ multiUser: true });
});
test.afterAll(async () => {
  await parley?.stop();
});

async function signUpAndCreate(
  browser: Browser,
  who: { name: string; email: string; agent: string },
) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(parley.url);
  // The tabs follow the keyboard pattern: arrows move between them.
  await page.getByRole('tab', { name: 'Sign in' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Create an account' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Create an account' })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await page.getByLabel('Your name').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Step 1 of 4: Describe' })).toBeVisible();
  await page.getByLabel('Name').fill(who.agent);
  await page.getByRole('button', { name: 'Create agent' }).click();
  await page.getByRole('button', { name: 'Use the offline demo' }).click();
  await page.getByRole('button', { name: 'What is 6 * 7?' }).click();
  await expect(page.locator('.turn').last()).toContainText('The calculator says 6 * 7 = 42.');
  return page;
}

async function conversationIdOf(page: Page, agent: string): Promise<string> {
  await page.goto(`${parley.url}/chat/${agent}`);
  const link = page.getByRole('complementary', { name: 'Conversations' }).getByRole('link').first();
  const href = await link.getAttribute('href');
  return new URL(href!, parley.url).searchParams.get('c')!;
}

test('two people never see each other’s data', async ({ browser }) => {
  // The longest story of the suite (two sign-ups, the operator's confirmation, an invitation,
  // two roles, signals): every step waits on a condition, and under CI's CPU-load run the
  // steps together need more than the default minute.
  test.setTimeout(180_000);
  const ada = await signUpAndCreate(browser, {
    name: 'Ada',
    email: OPERATOR_EMAIL,
    agent: 'ada-bot',
  });
  const bob = await signUpAndCreate(browser, {
    name: 'Bob',
    email: 'bob@parley.test',
    agent: 'bob-bot',
  });

  // Each one's agents page lists their own agent only.
  for (const [page, mine, theirs] of [
    [ada, 'ada-bot', 'bob-bot'],
    [bob, 'bob-bot', 'ada-bot'],
  ] as const) {
    await page.goto(`${parley.url}/agents`);
    await expect(page.getByRole('link', { name: mine }).first()).toBeVisible();
    await expect(page.getByText(theirs)).toHaveCount(0);
    await page.goto(`${parley.url}/members`);
    await expect(page.locator('tbody tr')).toHaveCount(1);
  }

  // Typing the other's agent URL finds nothing; neither does the other's conversation id.
  await bob.goto(`${parley.url}/chat/ada-bot`);
  await expect(bob.getByRole('alert')).toContainText(/not found/i);
  const adaConversation = await conversationIdOf(ada, 'ada-bot');
  await bob.goto(`${parley.url}/chat/bob-bot?c=${adaConversation}`);
  await expect(bob.getByRole('alert')).toContainText(/not found/i);
  await expect(bob.getByText('What is 6 * 7?')).toHaveCount(1); // only Bob's own conversation title

  // Ada's address is listed, but that alone makes no one an operator: she confirms it with
  // the one-time code, then sees the server's funnel; Bob, who is not one, is told so.
  await ada.goto(`${parley.url}/usage`);
  await expect(ada.getByText(/for the server’s operators/)).toBeVisible();
  await ada.getByLabel('Operator code').fill(OPERATOR_CODE);
  await ada.getByRole('button', { name: 'Confirm' }).click();
  await expect(ada.getByTestId('funnel-signup')).toHaveText('2');
  await expect(ada.getByTestId('funnel-deployed')).toHaveText('0');
  await expect(ada.getByTestId('agents-per-login')).toHaveText('1.00');
  await bob.goto(`${parley.url}/usage`);
  await expect(bob.getByText(/for the server’s operators/)).toBeVisible();

  // Only an invitation changes that: Ada invites Bob, Bob joins with the token (shown once).
  await ada.goto(`${parley.url}/members`);
  await ada.getByLabel('Email').fill('bob@parley.test');
  await ada.getByLabel('Role').selectOption('viewer');
  await ada.getByRole('button', { name: 'Invite' }).click();
  const invitation = (await ada.locator('.token-once code').textContent())!;
  await expect(ada.getByRole('cell', { name: 'pending' })).toBeVisible();
  await bob.goto(`${parley.url}/members`);
  await bob.getByLabel('Invitation token').fill(invitation);
  await bob.getByRole('button', { name: 'Join' }).click();
  await expect(bob.getByRole('combobox', { name: 'Workspace' })).toBeVisible();
  await bob.goto(`${parley.url}/agents`);
  await expect(bob.getByRole('link', { name: 'ada-bot' }).first()).toBeVisible();
  // Ada's audit view has the new member as a security signal: filter, acknowledge, hide.
  await ada.goto(`${parley.url}/audit`);
  await ada.getByLabel('Kind').selectOption('privilege.change');
  const signal = ada.locator('.signals li').first();
  await expect(signal).toContainText('privilege.change');
  await signal.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(signal).toContainText('acknowledged');
  await ada.getByLabel('Not acknowledged only').check();
  await expect(ada.getByText('No security signals. Good.')).toBeVisible();

  // As a viewer Bob may read Ada's agent, not run it.
  await bob.goto(`${parley.url}/chat/ada-bot`);
  await expect(bob.getByRole('textbox', { name: 'Message' })).toBeDisabled();

  // Signing out ends Bob's session: the sign-in page comes back, and another tab that still
  // shows the workspace says so at its next request, with a way back in.
  const other = await bob.context().newPage();
  await other.goto(`${parley.url}/agents`);
  await expect(other.getByRole('link', { name: 'ada-bot' }).first()).toBeVisible();
  await bob.getByRole('button', { name: 'Sign out' }).click();
  await expect(bob.getByRole('tab', { name: 'Sign in' })).toBeVisible();
  await bob.reload();
  await expect(bob.getByRole('tab', { name: 'Sign in' })).toBeVisible();
  await other.getByRole('button', { name: 'Versions' }).first().click();
  await expect(other.getByRole('alert')).toContainText('Please sign in again');
  await other.getByRole('button', { name: 'Sign in again' }).click();
  await expect(other.getByRole('tab', { name: 'Sign in' })).toBeVisible();
});

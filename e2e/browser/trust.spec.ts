import { expect, test } from '@playwright/test';
import { type Parley, startParley } from './support/parley.ts';

// The public trust page in a real browser, with JavaScript switched off (the page needs none):
// it renders its sections, the canonical migration link is a real link, hostile text written by
// an editor shows as text and never runs, and the overdue warning is announced as an alert.

let parley: Parley;
test.beforeAll(async () => {
  parley = await startParley();
  await parley.api.trust.update(parley.workspaceId, {
    content: {
      title: 'Acme <img src=x onerror="window.pwned=1">',
      officialDomains: ['acme.org'],
      handles: [{ platform: 'x', handle: '@acme' }],
      canonicalMigrationLink: 'https://acme.org/migrate',
      statements: ['We never DM first.', 'We never ask for your seed phrase.'],
    },
  });
  await parley.api.trust.upsertPartner(parley.workspaceId, {
    name: 'Kraken',
    migrationStatus: 'completed',
    lastVerifiedOn: '2026-05-01',
  });
  await parley.api.trust.publish(parley.workspaceId, { published: true, slug: 'acme' });
});
test.afterAll(async () => {
  await parley?.stop();
});

test.describe('the public page, without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('renders its sections, escaped, with the canonical link and the overdue warning', async ({
    page,
  }) => {
    const response = await page.goto(`${parley.url}/trust/acme`);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(
      'Acme <img src=x onerror="window.pwned=1">: safety and migration',
    );
    await expect(page.locator('img')).toHaveCount(0);
    const link = page.getByRole('link', { name: 'https://acme.org/migrate' });
    await expect(link).toHaveAttribute('href', 'https://acme.org/migrate');
    await expect(page.getByRole('alert')).toContainText('weekly status update is overdue');
    await expect(
      page.getByRole('listitem').filter({ hasText: 'We never DM first.' }),
    ).toBeVisible();
    const table = page.getByRole('table', { name: 'Exchanges and partners' });
    await expect(table.getByRole('row', { name: /Kraken/ })).toContainText('Completed');
  });
});

test('the dashboard shows the page state and the inbox, and posts the weekly status', async ({
  page,
}) => {
  await parley.api.support.create(parley.workspaceId, {
    subject: 'Where is the migration?',
    requester: 'ann',
    channel: 'discord',
  });
  await page.goto(`${parley.url}/safety`);
  await expect(page.getByRole('heading', { level: 1, name: 'Trust' })).toBeVisible();
  await expect(page.getByRole('link', { name: '/trust/acme' })).toHaveAttribute(
    'href',
    '/trust/acme',
  );
  await expect(page.getByRole('alert')).toContainText('weekly status update is overdue');
  await expect(page.getByRole('row', { name: /Where is the migration\?/ })).toContainText(
    'discord',
  );
  await page.getByLabel('Weekly status update').fill('Week 19: swaps open.');
  await page.getByRole('button', { name: 'Post the update' }).click();
  await expect(page.getByRole('alert')).toHaveCount(0);

  // The public page follows at once (it is never served from a cache without asking).
  await page.goto(`${parley.url}/trust/acme`);
  await expect(page.getByText('Week 19: swaps open.')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await parley.api.trust.publish(parley.workspaceId, { published: false });
  expect((await page.goto(`${parley.url}/trust/acme`))?.status()).toBe(404);
});

import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

// Browser tests of the dashboard (e2e/browser/*.spec.ts): Debian's Chromium, headless, against
// real Parley servers started as child processes by each spec. `npm test` (scripts/run-tests.ts)
// runs them, then Vitest whatever they did (arguments given to `npm test -- …` reach Vitest).
export default defineConfig({
  testDir: 'e2e/browser',
  testMatch: '*.spec.ts',
  // The built dashboard, and the migrated database each spec's server starts from.
  globalSetup: [
    './packages/dashboard/scripts/ensure-built.js',
    './e2e/browser/support/global-setup.ts',
  ],
  outputDir: 'test-results/browser',
  // A spec's beforeAll starts a server (up to 120 s under CPU load, see support/parley.ts).
  timeout: 150_000,
  expect: { timeout: 15_000 },
  workers: 2,
  forbidOnly: !!process.env.CI,
  // Under .ci/run (its output folder exists) a JSON report goes where its summary reads it;
  // its second run, under CPU load, names another file in PARLEY_E2E_REPORT.
  reporter: existsSync('.ci-out')
    ? [['list'], ['json', { outputFile: process.env.PARLEY_E2E_REPORT ?? '.ci-out/e2e.json' }]]
    : [['list']],
  use: {
    ...devices['Desktop Chrome'],
    headless: true,
    launchOptions: { executablePath: '/usr/bin/chromium' },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});

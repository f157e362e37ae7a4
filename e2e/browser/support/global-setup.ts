import { pgliteTemplate } from '@parley/store/testing';

/*
 * Playwright's second global setup (playwright.config.ts): the migrated PGlite directory that
 * each spec's server starts from (support/parley.ts), built here once, before the workers,
 * rather than by two workers at once on a machine with two cores. Cached across runs by key.
 */
export default async function buildDatabaseTemplate(): Promise<void> {
  await pgliteTemplate();
}

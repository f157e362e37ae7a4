import { pgliteTemplate } from './templates.ts';

/*
 * Vitest's global setup (vitest.config.ts): the migrated PGlite directory that test databases
 * start from (templates.ts), built once before the workers rather than inside the first test
 * file's beforeAll (initdb and every migration: seconds on a quiet machine, a minute under
 * load, against a 60 s hook timeout). Cached across runs by key: usually a no-op.
 * The PostgreSQL template is built on first use, under an advisory lock (postgres.ts).
 */
export default async function buildDatabaseTemplates(): Promise<void> {
  await pgliteTemplate();
}

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMigrations } from '../../src/migrate.ts';

/*
 * Migrated databases that tests start from instead of migrating their own. A fresh PGlite
 * directory runs initdb in WebAssembly (about 4 s on a quiet 2-core machine, over 40 s under
 * the CI's load) and every migration; a PostgreSQL database runs every migration (1-4 s).
 * A copy of an already migrated one is a file copy (PGlite) or `CREATE DATABASE … TEMPLATE`
 * (PostgreSQL), and migrate() on it takes its up-to-date fast path.
 *
 * A template is keyed by everything that shapes it: the migrations (tags and hashes), the
 * migrator's own source (roles, grants, bootstrap) and the PGlite and pgvector versions. An
 * edited or added migration makes a new key, so a template is never stale, and a test never
 * sees a database its migrations would not have produced. Tests of migrating itself (an
 * empty database, migrate: false) do not use templates.
 */

const require = createRequire(import.meta.url);

/**
 * PARLEY_TEST_TEMPLATES=0 turns templates off: every database is initialised and migrated
 * from scratch, as before them (to compare timings, or to rule templates out).
 */
export const templatesEnabled = process.env.PARLEY_TEST_TEMPLATES !== '0';

/** An installed package's version (its package.json is not among its exports). */
async function packageVersion(name: string): Promise<string> {
  let dir = dirname(require.resolve(name));
  while (dirname(dir) !== dir) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name: found, version } = JSON.parse(await readFile(manifest, 'utf8')) as {
        name?: string;
        version: string;
      };
      if (found === name) return version;
    }
    dir = dirname(dir);
  }
  throw new Error(`no package.json for ${name}`);
}

let key: Promise<string> | undefined;

/** The key of the current migrations, migrator and engine versions (hex). */
export function templateKey(): Promise<string> {
  key ??= (async () => {
    const hash = createHash('sha256');
    for (const m of loadMigrations()) hash.update(`${m.tag}:${m.hash}\n`);
    hash.update(await readFile(fileURLToPath(new URL('../../src/migrate.ts', import.meta.url))));
    for (const pkg of ['@electric-sql/pglite', '@electric-sql/pglite-pgvector']) {
      hash.update(`${pkg}@${await packageVersion(pkg)}\n`);
    }
    return hash.digest('hex').slice(0, 16);
  })();
  return key;
}

/** Where templates of PGlite data directories are kept (across runs: they are keyed). */
const PGLITE_TEMPLATES = join(tmpdir(), 'parley-test-templates');

/** Unused for a day (copyPgliteTemplate touches it): no test run still copies from it. */
const STALE_MS = 24 * 60 * 60 * 1000;

/** Templates of earlier migrations (and builds that died) go when a new one is built. */
async function removeOldTemplates(): Promise<void> {
  for (const name of await readdir(PGLITE_TEMPLATES)) {
    const path = join(PGLITE_TEMPLATES, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > STALE_MS) await rm(path, { recursive: true, force: true });
  }
}

let pglite: Promise<string> | undefined;

/**
 * A migrated PGlite `pgdata` directory, built once per key and machine. Built beside its final
 * name and renamed into place, so processes racing to build it never see half of one.
 */
export function pgliteTemplate(): Promise<string> {
  pglite ??= (async () => {
    const final = join(PGLITE_TEMPLATES, `pglite-${await templateKey()}`);
    if (existsSync(join(final, 'PG_VERSION'))) return final;
    await mkdir(PGLITE_TEMPLATES, { recursive: true });
    await removeOldTemplates();
    const work = await mkdtemp(join(PGLITE_TEMPLATES, 'building-'));
    try {
      const { openStore } = await import('../../src/store.ts');
      const store = await openStore({
        dataDir: work,
        masterKey: randomBytes(32).toString('base64'),
      });
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
      await rename(join(work, 'pgdata'), final).catch((error: NodeJS.ErrnoException) => {
        // Another process renamed its own copy into place first: that one is as good.
        if (!['ENOTEMPTY', 'EEXIST'].includes(error.code ?? '')) throw error;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return final;
  })();
  pglite.catch(() => {
    pglite = undefined;
  });
  return pglite;
}

/**
 * Makes `dataDir` (a store's PGlite data directory, created if missing) hold a migrated
 * database: a copy of the template. openStore({ dataDir }) then opens it as it would a
 * directory it had migrated itself.
 */
export async function copyPgliteTemplate(dataDir: string): Promise<void> {
  if (!templatesEnabled) return;
  const template = await pgliteTemplate();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await cp(template, join(dataDir, 'pgdata'), { recursive: true });
  // Marks it used: removeOldTemplates keeps what was copied within the last day.
  const now = new Date();
  await utimes(template, now, now).catch(() => {});
}

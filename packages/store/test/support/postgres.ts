import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { templateKey, templatesEnabled } from './templates.ts';

export { copyPgliteTemplate, pgliteTemplate } from './templates.ts';

/*
 * Each test file gets its own database on the PostgreSQL at DATABASE_URL and drops it (WITH
 * FORCE) afterwards, so files running in parallel and repeated runs never meet. The runtime
 * login role is cluster-wide: created if missing, never dropped, never a superuser.
 */

export const DATABASE_URL =
  process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** A LOGIN role that is neither superuser nor BYPASSRLS: RLS tests must connect as such a role. */
export const RUNTIME_ROLE = 'parley_test_runtime';

export interface TestDatabase {
  name: string;
  /** Superuser connection to the test database (migrations, inspection behind RLS). */
  adminUrl: string;
  /** The runtime role's connection to the test database. */
  runtimeUrl: string;
  admin: pg.Pool;
  drop(): Promise<void>;
}

function withPath(url: string, database: string, user?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (user !== undefined) {
    u.username = user;
    u.password = '';
  }
  return u.toString();
}

async function connectRoot(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL.replace(/:[^:@/]*@/, ':***@')} (${(error as { code?: string }).code ?? error}). ` +
        'The store tests always run against PostgreSQL too: start it (pg_ctlcluster 15 main start) or set DATABASE_URL.',
    );
  }
  return client;
}

async function createRuntimeRole(root: pg.Client): Promise<void> {
  try {
    await root.query(
      `create role ${RUNTIME_ROLE} login nosuperuser nobypassrls nocreatedb nocreaterole`,
    );
  } catch (error) {
    // Another test file (or an earlier run) created it: fine.
    if (!['42710', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

/** Arbitrary, fixed: one process at a time builds a template database (or drops old ones). */
const TEMPLATE_LOCK = 7_101_977_912;
const TEMPLATE_PREFIX = 'parley_tpl_';
/** A template nobody copied for a day is one no test run still uses (a run marks its own). */
export const TEMPLATE_STALE_MS = 24 * 60 * 60 * 1000;
const USED_NOTE = /^last used (\S+)$/;

/**
 * Notes on a template database that a test run copies it now (its comment: `last used <ISO
 * time>`), so that another checkout's run (other migrations, another template) keeps it.
 */
async function markTemplateUsed(root: pg.Client, name: string): Promise<void> {
  await root.query(`comment on database "${name}" is 'last used ${new Date().toISOString()}'`);
}

/**
 * Drops the template databases of other keys that no run copied for a day, and half-built
 * ones (called under TEMPLATE_LOCK: nothing else is building). One never marked (made before
 * templates were marked) is marked now and gets its day. One in use stays (DROP DATABASE
 * without FORCE refuses); a run whose template goes between its lookup and its copy builds
 * it again (createTestDatabase). Answers the names dropped. (`prefix`: for its own test.)
 */
export async function dropStaleTemplates(
  root: pg.Client,
  current: string,
  prefix = TEMPLATE_PREFIX,
): Promise<string[]> {
  const { rows } = await root.query<{ name: string; note: string | null }>(
    `select datname as name, shobj_description(oid, 'pg_database') as note from pg_database
      where starts_with(datname, $1) and datname <> $2`,
    [prefix, current],
  );
  const dropped: string[] = [];
  for (const { name, note } of rows) {
    const used = Date.parse(USED_NOTE.exec(note ?? '')?.[1] ?? '');
    const building = name.endsWith('_building');
    if (!building && Number.isNaN(used)) await markTemplateUsed(root, name);
    if (!building && (Number.isNaN(used) || Date.now() - used < TEMPLATE_STALE_MS)) continue;
    try {
      await root.query(`drop database if exists "${name}"`);
      dropped.push(name);
    } catch (error) {
      // 55006: someone is connected to it (a run copying it, or a person looking): it stays.
      if ((error as { code?: string }).code !== '55006') throw error;
    }
  }
  return dropped;
}

/**
 * The name of a migrated database to copy (templates.ts keys it), built once per key and
 * PostgreSQL server: under an advisory lock, migrated as the harness migrates (superuser
 * migration URL, the runtime role at runtime), then renamed into place. Nothing connects to
 * it afterwards, as CREATE DATABASE … TEMPLATE requires.
 */
async function migratedTemplate(root: pg.Client): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${await templateKey()}`;
  const exists = async (db: string) =>
    (await root.query('select 1 from pg_database where datname = $1', [db])).rowCount === 1;
  if (await exists(name)) {
    await markTemplateUsed(root, name);
    return name;
  }
  await root.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    if (await exists(name)) return name;
    const building = `${name}_building`;
    await root.query(`drop database if exists ${building} with (force)`);
    await root.query(`create database ${building}`);
    const { openStore } = await import('../../src/store.ts');
    const store = await openStore({
      url: withPath(DATABASE_URL, building, RUNTIME_ROLE),
      migrationUrl: withPath(DATABASE_URL, building),
      masterKey: randomBytes(32).toString('base64'),
      onBackgroundError: () => {},
    });
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    // A pool's backends may outlive its end() by a moment; a rename needs none left.
    await root.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [
      building,
    ]);
    await root.query(`alter database ${building} rename to ${name}`);
    await markTemplateUsed(root, name);
    // Templates of earlier migrations (other checkouts' included) go once unused for a day.
    await dropStaleTemplates(root, name);
    return name;
  } finally {
    await root.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
}

/** Creates `name` as a copy of the migrated template, built again if it went meanwhile. */
async function copyTemplate(root: pg.Client, name: string): Promise<void> {
  try {
    await root.query(`create database ${name} template ${await migratedTemplate(root)}`);
  } catch (error) {
    // 3D000: dropped as stale by another run between our lookup and our copy (rare: only a
    // template unused for a day goes). The lookup now finds it missing and builds it.
    if ((error as { code?: string }).code !== '3D000') throw error;
    await root.query(`create database ${name} template ${await migratedTemplate(root)}`);
  }
}

/**
 * A new, empty database for one test file; `{ migrated: true }` makes it a copy of a migrated
 * one instead (CREATE DATABASE … TEMPLATE, well under a second), which migrate() finds up to
 * date. Tests of migrating itself take an empty one.
 */
export async function createTestDatabase(
  label: string,
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const root = await connectRoot();
  const name = `parley_t_${label}_${randomBytes(5).toString('hex')}`;
  try {
    const [vector] = (
      await root.query(`select 1 from pg_available_extensions where name = 'vector'`)
    ).rows;
    if (!vector)
      throw new Error('pgvector is not installed for this PostgreSQL (bash .ci/run builds it).');
    // The role first: the template's migration grants it parley_app.
    await createRuntimeRole(root);
    if (options.migrated && templatesEnabled) {
      await copyTemplate(root, name);
    } else {
      await root.query(`create database ${name}`);
    }
  } finally {
    await root.end();
  }
  const adminUrl = withPath(DATABASE_URL, name);
  const admin = new pg.Pool({ connectionString: adminUrl, max: 3 });
  admin.on('error', () => {});
  return {
    name,
    adminUrl,
    runtimeUrl: withPath(DATABASE_URL, name, RUNTIME_ROLE),
    admin,
    async drop() {
      await admin.end();
      const client = await connectRoot();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
export { createWireCounter, type WireCounter } from './wire-counter.ts';

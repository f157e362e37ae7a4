import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  DATABASE_URL,
  dropStaleTemplates,
  TEMPLATE_STALE_MS,
} from './support/postgres.ts';
import { templateKey } from './support/templates.ts';

/*
 * The migrated PostgreSQL templates test databases are copied from (support/postgres.ts) are
 * keyed by the migrations, so each checkout and each change of migrations builds another:
 * those nobody copied for a day are dropped when a new one is built. Here under a prefix of
 * this file's own, so that it touches no other run's templates.
 */

const prefix = `parley_tpl_cleanup_${randomBytes(4).toString('hex')}_`;
const root = new pg.Client({ connectionString: DATABASE_URL });
const daysAgo = (days: number) => new Date(Date.now() - days * TEMPLATE_STALE_MS).toISOString();

async function template(name: string, note?: string) {
  await root.query(`create database "${prefix}${name}"`);
  if (note) await root.query(`comment on database "${prefix}${name}" is '${note}'`);
}
async function left(): Promise<Record<string, string | null>> {
  const { rows } = await root.query<{ name: string; note: string | null }>(
    `select datname as name, shobj_description(oid, 'pg_database') as note from pg_database
      where starts_with(datname, $1)`,
    [prefix],
  );
  return Object.fromEntries(rows.map((r) => [r.name.slice(prefix.length), r.note]));
}

beforeAll(async () => {
  await root.connect();
});
afterAll(async () => {
  for (const name of Object.keys(await left()))
    await root.query(`drop database if exists "${prefix}${name}" with (force)`);
  await root.end();
});

it('drops the templates nobody copied for a day, never the current one or one in use', async () => {
  await template('stale', `last used ${daysAgo(2)}`);
  await template('recent', `last used ${daysAgo(0.5)}`);
  await template('unmarked');
  await template('half_building');
  await template('current', `last used ${daysAgo(3)}`);
  await template('in_use', `last used ${daysAgo(2)}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${prefix}in_use`;
  const looking = new pg.Client({ connectionString: url.toString() });
  await looking.connect();
  try {
    const dropped = await dropStaleTemplates(root, `${prefix}current`, prefix);
    expect(dropped.map((name) => name.slice(prefix.length)).sort()).toEqual([
      'half_building',
      'stale',
    ]);
  } finally {
    await looking.end();
  }
  const kept = await left();
  expect(Object.keys(kept).sort()).toEqual(['current', 'in_use', 'recent', 'unmarked']);
  // One never marked gets its day from now.
  const marked = Date.parse(/^last used (\S+)$/.exec(kept.unmarked ?? '')?.[1] ?? '');
  expect(Date.now() - marked).toBeLessThan(TEMPLATE_STALE_MS / 2);
});

it('marks the current template used whenever a test database is copied from it', async () => {
  const database = await createTestDatabase('tplmark', { migrated: true });
  try {
    const { rows } = await root.query<{ note: string | null }>(
      `select shobj_description(oid, 'pg_database') as note from pg_database where datname = $1`,
      [`parley_tpl_${await templateKey()}`],
    );
    const used = Date.parse(/^last used (\S+)$/.exec(rows[0]?.note ?? '')?.[1] ?? '');
    expect(Date.now() - used).toBeLessThan(TEMPLATE_STALE_MS / 2);
  } finally {
    await database.drop();
  }
});

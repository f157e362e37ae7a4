import { randomBytes } from 'node:crypto';
import pg from 'pg';

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

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const root = await connectRoot();
  const name = `parley_t_${label}_${randomBytes(5).toString('hex')}`;
  try {
    const [vector] = (
      await root.query(`select 1 from pg_available_extensions where name = 'vector'`)
    ).rows;
    if (!vector)
      throw new Error('pgvector is not installed for this PostgreSQL (bash .ci/run builds it).');
    await root.query(`create database ${name}`);
    try {
      await root.query(
        `create role ${RUNTIME_ROLE} login nosuperuser nobypassrls nocreatedb nocreaterole`,
      );
    } catch (error) {
      // Another test file (or an earlier run) created it: fine.
      if (!['42710', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
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

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataDir } from '../src/data-dir.ts';
import { openStore, type Store } from '../src/index.ts';
import { internalsOf } from '../src/internal.ts';
import {
  createTestDatabase,
  DATABASE_URL,
  RUNTIME_ROLE,
  type TestDatabase,
} from './support/postgres.ts';

/*
 * Opening the store: where the embedded database lives and how it is protected, and what
 * each way of failing to connect says. One PGlite directory is opened, closed and reopened.
 */

const root = await mkdtemp(join(tmpdir(), 'parley-open-'));
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('openStore options', () => {
  it.each([
    [undefined, 'nothing'],
    [{}, 'no target'],
    [{ dataDir: '' }, 'an empty directory'],
    [{ url: 'mysql://localhost/db' }, 'another database'],
    [{ memory: false }, 'memory: false'],
  ])('refuses %j (%s) instead of falling back to memory', async (options, _why) => {
    await expect(openStore(options as never)).rejects.toMatchObject({
      code: 'store.invalid_input',
    });
  });
});

describe('embedded store in a data directory', () => {
  const dir = join(root, 'deep', 'nested', 'data');
  let store: Store | undefined;

  afterAll(async () => {
    await store?.close();
  });

  it('creates the directory 0700 with the database, a 0600 master key and a lock', async () => {
    store = await openStore({ dataDir: dir });
    await store.migrate();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'pgdata'))).toBe(true);
    expect((await readFile(join(dir, 'parley.lock'), 'utf8')).trim()).toBe(String(process.pid));
    expect(store.kind).toBe('pglite');
    expect(typeof (await store.ping())).toBe('number');
  });

  it('lets one store at a time open the directory', async () => {
    await expect(openStore({ dataDir: dir })).rejects.toMatchObject({
      code: 'store.data_dir_locked',
    });
  });

  it('keeps data and the generated key across a restart', async () => {
    const { workspace } = await store!.system.workspaces.ensureLocalOwner();
    await store!.withWorkspace(workspace.workspaceId, (w) =>
      w.secrets.put('PROVIDER_KEY', 'kept-across-restarts'),
    );
    const closing = store!;
    await closing.close();
    expect(existsSync(join(dir, 'parley.lock'))).toBe(false);
    await expect(closing.withWorkspace(workspace.workspaceId, async () => 1)).rejects.toMatchObject(
      { code: 'store.closed' },
    );
    await expect(closing.system.users.get(workspace.workspaceId)).rejects.toMatchObject({
      code: 'store.closed',
    });
    store = await openStore({ dataDir: dir });
    expect((await store.migrate()).applied).toEqual([]);
    const again = await store.system.workspaces.ensureLocalOwner();
    expect(again.workspace.workspaceId).toBe(workspace.workspaceId);
    expect(
      await store.withWorkspace(workspace.workspaceId, (w) => w.secrets.reveal('PROVIDER_KEY')),
    ).toBe('kept-across-restarts');
  });

  it('takes over a lock left by a process that is gone', async () => {
    await store!.close();
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    await writeFile(join(dir, 'parley.lock'), `${dead}\n`);
    store = await openStore({ dataDir: dir });
    expect((await readFile(join(dir, 'parley.lock'), 'utf8')).trim()).toBe(String(process.pid));
  });

  it('tightens a directory others can read, and refuses a file where the directory should be', async () => {
    const loose = join(root, 'loose');
    await mkdir(loose, { mode: 0o755 });
    await chmod(loose, 0o755);
    prepareDataDir(loose);
    expect((await stat(loose)).mode & 0o777).toBe(0o700);
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    await expect(openStore({ dataDir: file })).rejects.toMatchObject({
      code: 'store.data_dir_unsafe',
    });
  });

  it('reads PARLEY_MASTER_KEY when no key is passed, and says when the schema is missing', async () => {
    const previous = process.env.PARLEY_MASTER_KEY;
    process.env.PARLEY_MASTER_KEY = 'not a key';
    try {
      // A bad key fails before any database is opened.
      await expect(openStore({ memory: true })).rejects.toMatchObject({
        code: 'vault.invalid_master_key',
      });
      process.env.PARLEY_MASTER_KEY = randomBytes(32).toString('base64');
      const s = await openStore({ memory: true });
      try {
        await expect(
          s.withWorkspace(crypto.randomUUID(), (w) => w.agents.list()),
        ).rejects.toMatchObject({
          code: 'store.not_migrated',
        });
        await s.migrate();
        expect(await s.system.vault.status()).toMatchObject({
          configured: true,
          source: 'setting',
          currentVersion: 1,
        });
      } finally {
        await s.close();
      }
    } finally {
      if (previous === undefined) delete process.env.PARLEY_MASTER_KEY;
      else process.env.PARLEY_MASTER_KEY = previous;
    }
  });
});

describe('embedded store after its first migration', () => {
  // Creating and migrating a database leaves PGlite's worker with ~400 MB it will never give
  // back (WebAssembly memory does not shrink), so the store opens the directory again in a new
  // worker once migrations applied anything. Observable here: PostgreSQL's start time changes.
  const startedAt = async (store: Store) =>
    (
      await internalsOf(store).adminQuery<{ at: string }>(
        'select pg_postmaster_start_time()::text as at',
      )
    )[0]!.at;
  const roleOutsideTransactions = async (store: Store) =>
    (
      (await internalsOf(store).db.execute(sql`select current_user as role`)) as unknown as {
        rows: { role: string }[];
      }
    ).rows[0]!.role;

  it('serves a migrated directory from a new worker, as the runtime role, with its data', async () => {
    const dir = join(root, 'first-migration');
    const store = await openStore({ dataDir: dir });
    try {
      const before = await startedAt(store);
      expect((await store.migrate()).applied.length).toBeGreaterThan(0);
      const after = await startedAt(store);
      expect(after).not.toBe(before);
      expect(await roleOutsideTransactions(store)).toBe('parley_app');
      expect((await readFile(join(dir, 'parley.lock'), 'utf8')).trim()).toBe(String(process.pid));
      const { workspace } = await store.system.workspaces.ensureLocalOwner();
      await store.withWorkspace(workspace.workspaceId, (w) => w.agents.create({ name: 'kept' }));
      // Up to date: nothing applied, the worker stays.
      expect((await store.migrate()).applied).toEqual([]);
      expect(await startedAt(store)).toBe(after);
      expect(
        (await store.withWorkspace(workspace.workspaceId, (w) => w.agents.list())).map(
          (a) => a.name,
        ),
      ).toEqual(['kept']);
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, 'parley.lock'))).toBe(false);
  });

  it('keeps the one worker of an in-memory database, which would not survive another', async () => {
    const store = await openStore({ memory: true });
    try {
      const before = await startedAt(store);
      await store.migrate();
      expect(await startedAt(store)).toBe(before);
      expect(await roleOutsideTransactions(store)).toBe('parley_app');
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL connections', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('open');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('names the server, not the password, when it is unreachable', async () => {
    const error = await openStore({
      url: 'postgres://someone:hunter2secret@127.0.0.1:1/parley',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'store.unreachable', status: 503 });
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter2secret');
  });

  it('says when the database does not exist', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = `/parley_missing_${randomBytes(4).toString('hex')}`;
    await expect(openStore({ url: url.toString() })).rejects.toMatchObject({
      code: 'store.unreachable',
      pgCode: '3D000',
    });
  });

  it('starts with only the runtime connection once the schema is current (nothing to apply)', async () => {
    const fresh = await createTestDatabase('current');
    const masterKey = randomBytes(32).toString('base64');
    try {
      const admin = await openStore({
        url: fresh.runtimeUrl,
        migrationUrl: fresh.adminUrl,
        masterKey,
      });
      expect((await admin.migrate()).applied.length).toBeGreaterThan(0);
      await admin.close();
      const runtime = await openStore({
        url: fresh.runtimeUrl,
        masterKey,
        requireEnforcedIsolation: true,
      });
      try {
        expect(await runtime.migrate()).toMatchObject({ applied: [] });
        expect(runtime.isolation.level).toBe('enforced');
      } finally {
        await runtime.close();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('refuses a runtime role that may migrate nothing, with the SQL to fix it', async () => {
    const fresh = await createTestDatabase('noadmin');
    try {
      const store = await openStore({
        url: fresh.runtimeUrl,
        masterKey: randomBytes(32).toString('base64'),
      });
      try {
        await expect(store.migrate()).rejects.toMatchObject({
          code: 'store.insufficient_privileges',
        });
      } finally {
        await store.close();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('migrates as a non-superuser after the bootstrap SQL of docs/identity.md §7', async () => {
    const doc = readFileSync(new URL('../../../docs/identity.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## 7.'), doc.indexOf('## 8.'));
    const block = /```sql\n(CREATE ROLE parley_owner[\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const fresh = await createTestDatabase('bootstrap');
    try {
      const migrator = 'parley_test_migrator';
      await fresh.admin
        .query(`create role ${migrator} login nosuperuser nobypassrls nocreaterole nocreatedb`)
        .catch((e) => {
          if (!['42710', '23505'].includes(e.code)) throw e;
        });
      for (const statement of block!
        .split(';')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const sql = statement
          .replaceAll('parley_migrator', migrator)
          .replaceAll('parley_api', RUNTIME_ROLE);
        // Cluster-wide roles may exist already, exactly as the page says.
        await fresh.admin.query(sql).catch((e) => {
          if (!(sql.startsWith('CREATE ROLE') && ['42710', '23505'].includes(e.code))) throw e;
        });
      }
      const url = new URL(fresh.adminUrl);
      url.username = migrator;
      url.password = '';
      const store = await openStore({
        url: fresh.runtimeUrl,
        migrationUrl: url.toString(),
        masterKey: randomBytes(32).toString('base64'),
      });
      try {
        const shipped = JSON.parse(
          readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
        ).entries.map((e: { tag: string }) => e.tag);
        expect(shipped.slice(0, 3)).toEqual(['0000_init', '0001_security', '0002_agent_drafts']);
        expect((await store.migrate()).applied).toEqual(shipped);
        expect(store.isolation.level).toBe('enforced');
        const owners = await fresh.admin.query(
          `select distinct tableowner from pg_tables where schemaname = 'public'`,
        );
        expect(owners.rows).toEqual([{ tableowner: 'parley_owner' }]);
        const { workspace } = await store.system.workspaces.ensureLocalOwner();
        expect(
          await store.withWorkspace(workspace.workspaceId, (w) =>
            w.secrets.put('K', 'value-value-value'),
          ),
        ).toMatchObject({ name: 'K' });
      } finally {
        await store.close();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('opens with enforced isolation only as a role that cannot bypass row-level security', async () => {
    const migrator = await openStore({ url: db.adminUrl, onBackgroundError: () => {} });
    await migrator.migrate();
    expect(migrator.isolation).toMatchObject({ level: 'guarded', sessionRole: 'postgres' });
    await migrator.close();
    await expect(
      openStore({ url: db.adminUrl, requireEnforcedIsolation: true }),
    ).rejects.toMatchObject({
      code: 'store.isolation_not_enforced',
    });
    const previous = process.env.PARLEY_MASTER_KEY;
    delete process.env.PARLEY_MASTER_KEY;
    try {
      const app = await openStore({ url: db.runtimeUrl, requireEnforcedIsolation: true });
      try {
        expect(app.isolation.level).toBe('enforced');
        const { workspace } = await app.system.workspaces.ensureLocalOwner();
        expect(
          (await app.withWorkspace(workspace.workspaceId, (w) => w.agents.create({ name: 'ok' })))
            .name,
        ).toBe('ok');
        // No master key configured: the vault says how to configure one, nothing else breaks.
        await expect(
          app.withWorkspace(workspace.workspaceId, (w) => w.secrets.put('K', 'value-value')),
        ).rejects.toMatchObject({
          code: 'vault.no_master_key',
        });
      } finally {
        await app.close();
      }
    } finally {
      if (previous !== undefined) process.env.PARLEY_MASTER_KEY = previous;
    }
  });
});

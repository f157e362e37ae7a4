import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagnoseStore, openStore, probeDatabase, type Store } from '../src/index.ts';
import { loadMigrations } from '../src/internal.ts';
import { describeEachEngine } from './support/engines.ts';
import {
  createTestDatabase,
  DATABASE_URL,
  RUNTIME_ROLE,
  type TestDatabase,
} from './support/postgres.ts';

/*
 * The read-only diagnosis behind `parley doctor`: diagnoseStore() on an open store (as the
 * role it logged in as) and probeDatabase(url) on a bare URL. What it says must agree with
 * what the store then does: pending migrations are the ones migrate() applies, canApply is
 * whether migrate() gets through, and the isolation report is openStore()'s.
 */

const SHIPPED = loadMigrations().map((m) => m.tag);
const masterKey = () => randomBytes(32).toString('base64');

function withUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
}

describeEachEngine(
  'diagnoseStore',
  (h, engine) => {
    it('diagnoses a database that was never migrated, and changes nothing', async () => {
      const d = await diagnoseStore(h().store);
      expect(d.kind).toBe(engine);
      expect(d.serverVersionNum).toBeGreaterThanOrEqual(150_000);
      expect(d.serverVersion).toMatch(/^\d+\.\d+/);
      expect(d.vector).toMatchObject({ available: true, installed: false, installedVersion: null });
      expect(d.migrations).toMatchObject({
        shipped: SHIPPED,
        applied: [],
        pending: SHIPPED,
        unknown: [],
        changed: [],
      });
      expect(d.isolation).toEqual(h().store.isolation);
      if (engine === 'pglite') {
        // PGlite's only session is its superuser.
        expect(d.role).toMatchObject({ superuser: true, createOnPublic: true });
        expect(d.migrations).toMatchObject({ canApply: true, blockers: [] });
      } else {
        // The harness connects as the runtime role: no DDL, no bypass, no migrations.
        expect(d.role).toEqual({
          name: RUNTIME_ROLE,
          superuser: false,
          bypassRls: false,
          createOnPublic: false,
          ownerMember: false,
          appMember: expect.any(Boolean),
        });
        expect(d.migrations.canApply).toBe(false);
        expect(d.migrations.blockers.join('\n')).toContain('vector extension is not installed');
        expect(d.migrations.blockers.join('\n')).toContain(
          `"${RUNTIME_ROLE}" is neither a superuser nor a member of parley_owner`,
        );
      }
      // Read-only: no extension, no schema, no record appeared.
      const [after] = await h().admin<{ vector: boolean; meta: boolean }>(
        `select exists (select 1 from pg_extension where extname = 'vector') as vector,
                exists (select 1 from pg_namespace where nspname = 'parley_meta') as meta`,
      );
      expect(after).toEqual({ vector: false, meta: false });
    });

    it('lists as pending exactly what migrate() then applies', async () => {
      const before = await diagnoseStore(h().store);
      const result = await h().store.migrate();
      expect(result.applied).toEqual(before.migrations.pending);
      const d = await diagnoseStore(h().store);
      expect(d.vector.installed).toBe(true);
      expect(d.vector.installedVersion).toMatch(/^\d+\.\d+/);
      expect(d.isolation).toEqual(h().store.isolation);
      if (engine === 'pglite') {
        expect(d.migrations).toMatchObject({ applied: SHIPPED, pending: [], canApply: true });
        expect(d.isolation.level).toBe('guarded');
      } else {
        // The runtime role reads the record: nothing pending, so it can start on its own.
        expect(d.migrations).toMatchObject({ applied: SHIPPED, pending: [], canApply: true });
        expect(d.role.appMember).toBe(true);
        expect(d.isolation.level).toBe('enforced');
      }
    });

    it('notices a migration from a newer version and an edited one, as migrate() does', async () => {
      await h().admin(`insert into parley_meta.migrations (tag, hash) values ('9999_future', 'x')`);
      await h().admin(`update parley_meta.migrations set hash = 'edited' where tag = $1`, [
        SHIPPED[0],
      ]);
      try {
        const d =
          engine === 'pglite'
            ? await diagnoseStore(h().store)
            : await probeDatabase(h().pg!.adminUrl).then((r) => {
                if (!r.ok) throw new Error(r.message);
                return r.diagnosis;
              });
        expect(d.migrations.unknown).toEqual(['9999_future']);
        expect(d.migrations.changed).toEqual([SHIPPED[0]]);
        expect(d.migrations.canApply).toBe(false);
        expect(d.migrations.blockers.join('\n')).toContain('newer version of Parley');
        await expect(h().store.migrate()).rejects.toMatchObject({
          code: 'store.migration_mismatch',
        });
      } finally {
        const hash = loadMigrations()[0]!.hash;
        await h().admin(`delete from parley_meta.migrations where tag = '9999_future'`);
        await h().admin(`update parley_meta.migrations set hash = $1 where tag = $2`, [
          hash,
          SHIPPED[0],
        ]);
      }
      expect((await h().store.migrate()).applied).toEqual([]);
    });

    it('refuses something that is not an open store', async () => {
      await expect(diagnoseStore({} as Store)).rejects.toMatchObject({
        code: 'store.invalid_input',
      });
    });
  },
  { migrate: false },
);

describe('probeDatabase', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('probe');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers instead of throwing when nothing listens on the port', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const result = await probeDatabase(`postgres://someone:hunter2secret@127.0.0.1:${port}/x`);
    expect(result).toMatchObject({ ok: false, code: 'store.unreachable' });
    if (result.ok) return;
    expect(result.message).toContain(`127.0.0.1:${port}`);
    expect(result.message).toContain('ECONNREFUSED');
    expect(result.message).not.toContain('hunter2secret');
  });

  it('answers for a missing database, an unknown role and a URL that is not PostgreSQL', async () => {
    const missing = new URL(DATABASE_URL);
    missing.pathname = `/parley_missing_${randomBytes(4).toString('hex')}`;
    expect(await probeDatabase(missing.toString())).toMatchObject({
      ok: false,
      code: 'store.unreachable',
      pgCode: '3D000',
    });
    const nobody = await probeDatabase(
      withUser(db.adminUrl, `nobody_${randomBytes(3).toString('hex')}`),
    );
    expect(nobody).toMatchObject({ ok: false, code: 'store.unreachable' });
    expect(nobody.ok || nobody.pgCode?.startsWith('28')).toBe(true);
    expect(await probeDatabase('mysql://localhost/db')).toMatchObject({
      ok: false,
      code: 'store.invalid_input',
    });
  });

  it('reports a superuser connection as guarded, exactly as openStore() does', async () => {
    const result = await probeDatabase(db.adminUrl);
    if (!result.ok) throw new Error(result.message);
    const d = result.diagnosis;
    expect(d).toMatchObject({
      kind: 'postgres',
      database: db.name,
      role: { superuser: true, createOnPublic: true },
      vector: { available: true, installed: false },
      migrations: { applied: [], pending: SHIPPED, canApply: true, blockers: [] },
    });
    const store = await openStore({ url: db.adminUrl, masterKey: masterKey() });
    try {
      expect(d.isolation).toEqual(store.isolation);
      expect(d.isolation.level).toBe('guarded');
    } finally {
      await store.close();
    }
  });

  it('sees a role without CREATE on public, and that it cannot migrate', async () => {
    const result = await probeDatabase(db.runtimeUrl);
    if (!result.ok) throw new Error(result.message);
    const d = result.diagnosis;
    expect(d.role).toMatchObject({ name: RUNTIME_ROLE, superuser: false, createOnPublic: false });
    expect(d.migrations.canApply).toBe(false);
    expect(d.migrations.pending).toEqual(SHIPPED);
    const store = await openStore({ url: db.runtimeUrl, masterKey: masterKey() });
    try {
      expect(d.isolation).toEqual(store.isolation);
      expect(d.isolation.level).toBe('enforced');
      // canApply: false is the truth: migrate() on this connection fails.
      await expect(store.migrate()).rejects.toMatchObject({
        code: 'store.insufficient_privileges',
      });
    } finally {
      await store.close();
    }
    // The privilege check is real: granting CREATE (in this database only) flips it.
    await db.admin.query(`grant create on schema public to ${RUNTIME_ROLE}`);
    try {
      const granted = await probeDatabase(db.runtimeUrl);
      expect(granted).toMatchObject({ ok: true, diagnosis: { role: { createOnPublic: true } } });
    } finally {
      await db.admin.query(`revoke create on schema public from ${RUNTIME_ROLE}`);
    }
  });

  it('after migrating: up to date for the migration user and for the runtime role', async () => {
    const store = await openStore({
      url: db.runtimeUrl,
      migrationUrl: db.adminUrl,
      masterKey: masterKey(),
    });
    try {
      expect((await store.migrate()).applied).toEqual(SHIPPED);
    } finally {
      await store.close();
    }
    const admin = await probeDatabase(db.adminUrl);
    expect(admin).toMatchObject({
      ok: true,
      diagnosis: {
        vector: { installed: true },
        migrations: { applied: SHIPPED, pending: [], canApply: true },
      },
    });
    const runtime = await probeDatabase(db.runtimeUrl);
    expect(runtime).toMatchObject({
      ok: true,
      diagnosis: {
        role: { appMember: true, ownerMember: false },
        migrations: { applied: SHIPPED, pending: [], canApply: true },
        isolation: { level: 'enforced' },
      },
    });
  });

  it('lets a non-superuser member of parley_owner migrate once the bootstrap is in place', async () => {
    // Cluster-wide like the runtime role: created once, never dropped.
    const migrator = 'parley_test_doctor_migrator';
    await db.admin
      .query(`create role ${migrator} login nosuperuser nobypassrls nocreaterole nocreatedb`)
      .catch((e) => {
        if (!['42710', '23505'].includes(e.code)) throw e;
      });
    const url = withUser(db.adminUrl, migrator);
    // The roles and the extension exist (the previous test migrated), the membership does not.
    await db.admin.query(`revoke parley_owner from ${migrator}`);
    const outsider = await probeDatabase(url);
    expect(outsider).toMatchObject({
      ok: true,
      diagnosis: { role: { ownerMember: false }, migrations: { canApply: false } },
    });
    await db.admin.query(`grant parley_owner to ${migrator}`);
    try {
      const member = await probeDatabase(url);
      expect(member).toMatchObject({
        ok: true,
        diagnosis: {
          role: { superuser: false, ownerMember: true },
          migrations: { canApply: true, blockers: [], pending: [] },
        },
      });
      const store = await openStore({
        url: db.runtimeUrl,
        migrationUrl: url,
        masterKey: masterKey(),
      });
      try {
        expect((await store.migrate()).applied).toEqual([]);
      } finally {
        await store.close();
      }
      // As a runtime connection, an owner member could bypass row-level security.
      if (!member.ok) throw new Error(member.message);
      const asRuntime = await openStore({ url, masterKey: masterKey() });
      try {
        expect(member.diagnosis.isolation).toEqual(asRuntime.isolation);
        expect(member.diagnosis.isolation.level).toBe('guarded');
      } finally {
        await asRuntime.close();
      }
    } finally {
      await db.admin.query(`revoke parley_owner from ${migrator}`);
    }
  });
});

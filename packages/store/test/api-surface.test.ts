import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.ts';

/*
 * The boundary: other packages reach the database only through typed methods. The public
 * entry exports no database handle, no schema and no query builder, and no other package
 * depends on a database driver, but the cluster's bus: it holds one PostgreSQL connection for
 * LISTEN/NOTIFY (and the PostgreSQL counters go through the store), never a query on data.
 */

describe('@parley/store public surface', () => {
  it('exports exactly these runtime values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'ALL_PERMISSIONS',
        'API_TOKEN_PREFIX',
        'EmbeddingMismatchError',
        'FUNNEL_STEPS',
        'INDEXED_EMBEDDING_DIMENSIONS',
        'INVITABLE_ROLES',
        'LIMITS',
        'MAX_TOKEN_LIFETIME_MS',
        'MessagePartSchema',
        'MessageRoleSchema',
        'PERMISSIONS',
        'PermissionSchema',
        'ROLE_PERMISSIONS',
        'RUN_STATUSES',
        'SIGNAL_SEVERITIES',
        'STORE_AUDIT_ACTIONS',
        'STORE_ERROR_CODES',
        'SecretNameSchema',
        'StoreError',
        'VaultError',
        'WORKSPACE_ROLES',
        'WorkspaceRoleSchema',
        'diagnoseStore',
        'effectivePermissions',
        'embeddedDatabaseDir',
        'isStoreError',
        'isWellFormedApiToken',
        'openStore',
        'parseSessionCookie',
        'probeDatabase',
        'redactUrl',
        'roleAllows',
        'DEFAULT_FIRST_RESPONSE_HOURS',
        'EMPTY_TRUST_CONTENT',
        'PARTNER_STATUSES',
        'SlugSchema',
        'TICKET_EVENT_KINDS',
        'TICKET_PRIORITIES',
        'TICKET_STATUSES',
        'TrustPageContentSchema',
      ].sort(),
    );
  });

  it('hands out a store with no raw database access', async () => {
    const store = await api.openStore({ memory: true });
    try {
      expect(Object.keys(store).sort()).toEqual([
        'close',
        'isolation',
        'kind',
        'migrate',
        'ping',
        'system',
        'withWorkspace',
      ]);
      expect(Object.keys(store.system).sort()).toEqual(
        [
          'authenticateApiToken',
          'channels',
          'cluster',
          'invitations',
          'productEvents',
          'runLeases',
          'securitySignals',
          'sessions',
          'trust',
          'users',
          'vault',
          'workspaces',
        ].sort(),
      );
      await store.migrate();
      const { workspace } = await store.system.workspaces.ensureLocalOwner();
      const keys = await store.withWorkspace(workspace.workspaceId, async (w) =>
        Object.keys(w).sort(),
      );
      expect(keys).toEqual(
        [
          'agents',
          'apiTokens',
          'audit',
          'conversations',
          'evals',
          'knowledge',
          'members',
          'memories',
          'messages',
          'invitations',
          'runs',
          'savepoints',
          'secrets',
          'securitySignals',
          'support',
          'trust',
          'withoutSavepoints',
          'workspace',
          'workspaceId',
        ].sort(),
      );
    } finally {
      await store.close();
    }
  });

  it('pins every error code to a status and a summary', () => {
    for (const [code, { status, summary }] of Object.entries(api.STORE_ERROR_CODES)) {
      expect(code).toMatch(/^(store|vault)\.[a-z_]+$/);
      expect([400, 404, 409, 422, 500, 503]).toContain(status);
      expect(summary.length).toBeGreaterThan(10);
    }
    // A new code is a contract change for the server and its clients: update docs and this pin.
    expect(Object.keys(api.STORE_ERROR_CODES)).toHaveLength(27);
  });

  it('is the only package that depends on a database driver (the bus aside: pg only)', () => {
    const packagesDir = new URL('../../', import.meta.url);
    const drivers = [
      'drizzle-orm',
      'drizzle-kit',
      'pg',
      '@types/pg',
      '@electric-sql/pglite',
      '@electric-sql/pglite-pgvector',
    ];
    for (const name of readdirSync(packagesDir)) {
      if (name === 'store') continue;
      let pkg: Record<string, Record<string, string> | undefined>;
      try {
        pkg = JSON.parse(readFileSync(new URL(`${name}/package.json`, packagesDir), 'utf8'));
      } catch {
        continue;
      }
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
      const allowed = name === 'cluster' ? ['pg', '@types/pg'] : [];
      expect(
        deps.filter((d) => drivers.includes(d) && !allowed.includes(d)),
        `packages/${name}`,
      ).toEqual([]);
    }
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { internalsOf } from '../../src/internal.ts';
import {
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreInternals,
} from '../../src/store.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { copyPgliteTemplate } from './templates.ts';

export type EngineName = 'pglite' | 'postgres';
export const ENGINES: EngineName[] = ['pglite', 'postgres'];

export interface Harness {
  engine: EngineName;
  store: Store;
  internals: StoreInternals;
  /** SQL as a superuser, past row-level security: to plant data and to check what really happened. */
  admin<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Opens another store on the same database (PostgreSQL: a second pool; PGlite: after closing this one). */
  reopen(options?: { masterKey?: string }): Promise<Store>;
  masterKey: string;
  pg?: TestDatabase;
  dataDir?: string;
}

export interface HarnessOptions {
  /**
   * PGlite in a temporary directory, so it can be reopened. A harness that migrates from the
   * template is on disk anyway; this matters only with `migrate: false` or `template: false`
   * (in memory otherwise).
   */
  persistent?: boolean;
  /** Run migrate() (default true). */
  migrate?: boolean;
  /**
   * Start from a migrated copy (templates.ts) when migrating (default true); false runs every
   * migration on an empty database, for tests of what migrating does.
   */
  template?: boolean;
}

export async function createHarness(
  engine: EngineName,
  label: string,
  options: HarnessOptions = {},
): Promise<Harness & { teardown(): Promise<void> }> {
  const masterKey = randomBytes(32).toString('base64');
  const opened: Store[] = [];
  let pgdb: TestDatabase | undefined;
  let dataDir: string | undefined;
  let base: OpenStoreOptions;
  // A harness that migrates starts from a migrated copy (templates.ts); migrate() below then
  // takes its up-to-date path. `migrate: false` or `template: false` gets an empty database.
  const fromTemplate = options.migrate !== false && options.template !== false;
  if (engine === 'postgres') {
    pgdb = await createTestDatabase(label, { migrated: fromTemplate });
    base = {
      url: pgdb.runtimeUrl,
      migrationUrl: pgdb.adminUrl,
      masterKey,
      onBackgroundError: () => {},
    };
  } else if (options.persistent || fromTemplate) {
    // On disk, copied from the template: faster than initdb and every migration in memory
    // (store identity+isolation+workspace-data: 115-123 s in memory, 40-100 s so, under load).
    dataDir = await mkdtemp(join(tmpdir(), `parley-${label}-`));
    if (fromTemplate) await copyPgliteTemplate(join(dataDir, 'data'));
    base = { dataDir: join(dataDir, 'data'), masterKey };
  } else {
    base = { memory: true, masterKey };
  }
  const open = async (extra: { masterKey?: string } = {}) => {
    const store = await openStore({ ...base, ...extra });
    opened.push(store);
    return store;
  };
  const cleanup = async () => {
    for (const store of opened) await store.close();
    await pgdb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  let harness: Harness & { teardown(): Promise<void> };
  try {
    harness = {
      engine,
      masterKey,
      store: await open(),
      ...(pgdb ? { pg: pgdb } : {}),
      ...(dataDir ? { dataDir } : {}),
    } as Harness & { teardown(): Promise<void> };
    if (options.migrate !== false) await harness.store.migrate();
  } catch (error) {
    // A failed start must not leave a test database behind.
    await cleanup().catch(() => {});
    throw error;
  }
  harness.internals = internalsOf(harness.store);
  harness.admin = async <R>(text: string, params?: unknown[]) => {
    if (pgdb) return (await pgdb.admin.query(text, params)).rows as R[];
    return internalsOf(harness.store).adminQuery<R>(text, params);
  };
  harness.reopen = async (extra = {}) => {
    if (engine === 'pglite') {
      await harness.store.close();
      harness.store = await open(extra);
      harness.internals = internalsOf(harness.store);
      return harness.store;
    }
    return open(extra);
  };
  harness.teardown = cleanup;
  return harness;
}

/**
 * Declares the same suite once per engine, each with its own harness (one PGlite instance,
 * or one PostgreSQL database, per file and engine).
 */
export function describeEachEngine(
  title: string,
  body: (h: () => Harness, engine: EngineName) => void,
  options: HarnessOptions = {},
): void {
  for (const engine of ENGINES) {
    describe(`${title} [${engine}]`, () => {
      let harness: (Harness & { teardown(): Promise<void> }) | undefined;
      beforeAll(async () => {
        harness = await createHarness(
          engine,
          title.replace(/\W+/g, '_').slice(0, 20).toLowerCase(),
          options,
        );
      });
      afterAll(async () => {
        await harness?.teardown();
      });
      body(() => {
        if (!harness) throw new Error('harness not ready');
        return harness;
      }, engine);
    });
  }
}

/** A user plus a workspace they own. */
export async function seedWorkspace(store: Store, label: string) {
  const user = await store.system.users.create({
    email: `${label}-${randomBytes(4).toString('hex')}@example.test`,
    displayName: label,
  });
  const workspace = await store.system.workspaces.create({
    name: `${label} workspace`,
    ownerUserId: user.id,
  });
  return { user, workspace, workspaceId: workspace.id };
}

/**
 * describeEachEngine on databases that start empty and are migrated in the file itself (no
 * migrated template): for tests of what migrating builds.
 */
export function describeEachEngineFromEmpty(
  title: string,
  body: (h: () => Harness, engine: EngineName) => void,
): void {
  describeEachEngine(title, body, { template: false });
}

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '@parley/store';
import { copyPgliteTemplate, createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { afterAll, beforeAll, describe } from 'vitest';

/*
 * The trust package's tests run on both engines, like the store's: PGlite copied from the
 * migrated template, and a PostgreSQL database of their own (dropped afterwards).
 */

const ENGINES = ['pglite', 'postgres'] as const;

async function openEngine(engine: (typeof ENGINES)[number], label: string) {
  const masterKey = randomBytes(32).toString('base64');
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let store: Store;
  if (engine === 'postgres') {
    database = await createTestDatabase(label, { migrated: true });
    store = await openStore({
      url: database.runtimeUrl,
      migrationUrl: database.adminUrl,
      masterKey,
      onBackgroundError: () => {},
    });
  } else {
    dataDir = await mkdtemp(join(tmpdir(), `parley-${label}-`));
    await copyPgliteTemplate(join(dataDir, 'data'));
    store = await openStore({ dataDir: join(dataDir, 'data'), masterKey });
  }
  await store.migrate();
  return {
    store,
    async close() {
      await store.close();
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `describe` once per engine; `store()` is that engine's migrated store. */
export function describeEachEngine(name: string, body: (store: () => Store) => void): void {
  for (const engine of ENGINES) {
    describe(`${name} (${engine})`, () => {
      let opened: Awaited<ReturnType<typeof openEngine>> | undefined;
      beforeAll(async () => {
        opened = await openEngine(engine, name.replace(/\W+/g, '_').slice(0, 20));
      });
      afterAll(async () => {
        await opened?.close();
      });
      body(() => opened!.store);
    });
  }
}

/** A user and a workspace they own. */
export async function seedWorkspace(store: Store, label: string) {
  const user = await store.system.users.create({
    email: `${label}-${randomBytes(4).toString('hex')}@example.test`,
    displayName: label,
  });
  const workspace = await store.system.workspaces.create({
    name: `${label} workspace`,
    ownerUserId: user.id,
  });
  return { user, workspaceId: workspace.id };
}

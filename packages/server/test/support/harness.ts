import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '@parley/store';
import { createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { type AppOptions, buildApp, type ParleyApp } from '../../src/app.ts';
import { bootstrapSingleUser } from '../../src/bootstrap.ts';
import { loadConfig, type ServerConfig } from '../../src/config.ts';

export type Engine = 'pglite' | 'postgres';
export const ENGINES: Engine[] = ['pglite', 'postgres'];

export interface TestServer {
  app: ParleyApp;
  store: Store;
  config: ServerConfig;
  url: string;
  engine: Engine;
  /** Single-user mode: the owner's token and workspace. */
  token: string;
  workspaceId: string;
  ownerId: string;
  /** Stops the app (runs end, logs flush) but keeps the database, for restart tests. */
  stopApp(): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  engine?: Engine;
  env?: Record<string, string>;
  tuning?: AppOptions['tuning'];
  /** Reuse a database: a data directory (pglite) or a test database (postgres). */
  reuse?: { dataDir?: string; database?: TestDatabase };
  keepDatabase?: boolean;
  /** A pino logger or Fastify logger options (e.g. an in-memory stream); default: none. */
  logger?: AppOptions['logger'];
}

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * A real server on a loopback port with a real database: PGlite in a temporary data
 * directory, or a fresh PostgreSQL database reached as a non-superuser runtime role (so
 * row-level security is enforced, not just guarded).
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const engine = options.engine ?? 'pglite';
  const dataDir = options.reuse?.dataDir ?? (await mkdtemp(join(tmpdir(), 'parley-server-')));
  const database =
    engine === 'postgres'
      ? (options.reuse?.database ?? (await createTestDatabase('server')))
      : undefined;
  const config = loadConfig({
    PARLEY_PORT: '0',
    PARLEY_DATA_DIR: dataDir,
    PARLEY_MASTER_KEY: MASTER_KEY,
    PARLEY_SHUTDOWN_GRACE_SECONDS: '1',
    // A built dashboard (packages/dashboard/dist) must not change what API tests see.
    PARLEY_DASHBOARD_DIR: join(dataDir, 'no-dashboard'),
    ...(database ? { PARLEY_DATABASE_URL: database.runtimeUrl } : {}),
    ...options.env,
  });
  const store = await openStore(
    database
      ? {
          url: database.runtimeUrl,
          migrationUrl: database.adminUrl,
          masterKey: MASTER_KEY,
          onBackgroundError: () => {},
        }
      : { dataDir, masterKey: MASTER_KEY },
  );
  await store.migrate();
  let owner = { ownerId: '', workspaceId: '', token: '' };
  if (!config.multiUser) {
    const boot = await bootstrapSingleUser(store, { dataDir, serverUrl: 'http://127.0.0.1:0' });
    owner = { ownerId: boot.ownerId, workspaceId: boot.workspaceId, token: boot.credentials.token };
  }
  const app = await buildApp({
    config,
    store,
    ...(owner.ownerId ? { localOwnerId: owner.ownerId } : {}),
    ...(options.tuning ? { tuning: options.tuning } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  let appStopped = false;
  const stopApp = async () => {
    if (appStopped) return;
    appStopped = true;
    await app.close();
  };
  return {
    app,
    store,
    config,
    url,
    engine,
    ...owner,
    stopApp,
    async close() {
      await stopApp();
      await store.close();
      if (!options.keepDatabase) {
        if (database) await database.drop();
        if (!options.reuse?.dataDir) await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** fetch with the bearer token and JSON body. */
export function client(base: string, token?: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
}

/** A scripted agent definition (offline): replies from a script, or echoes. */
export function scriptedAgent(
  name: string,
  script?: unknown[],
  extra: Record<string, unknown> = {},
) {
  return {
    name,
    instructions: 'You are a test agent.',
    model: { provider: 'scripted', model: 'test', ...(script ? { script } : {}) },
    memory: { enabled: false, autoExtract: false },
    ...extra,
  };
}

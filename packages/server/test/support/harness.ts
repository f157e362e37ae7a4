import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStoreError, openStore, type Store } from '@parley/store';
import { copyPgliteTemplate, createTestDatabase, type TestDatabase } from '@parley/store/testing';
import { expect } from 'vitest';
import { type AppOptions, buildApp, type ParleyApp } from '../../src/app.ts';
import { bootstrapSingleUser } from '../../src/bootstrap.ts';
import { loadConfig, type ServerConfig } from '../../src/config.ts';
import { CANARY, createLeakSink, type LeakSink } from './leak-scan.ts';

export { CANARY, findLeaks, LEAK_PATTERNS, LeakError } from './leak-scan.ts';

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
  /**
   * Stops the app, scans the stored events of the runs it served for leaked secrets, closes
   * the database; rejects with LeakError when the log or an event held a credential or the
   * canary (support/leak-scan.ts).
   */
  close(): Promise<void>;
  /** Where this server's log lines are scanned (findings so far). */
  leaks: LeakSink;
}

export interface TestServerOptions {
  engine?: Engine;
  env?: Record<string, string>;
  tuning?: AppOptions['tuning'];
  /** Reuse a database: a data directory (pglite) or a test database (postgres). */
  reuse?: { dataDir?: string; database?: TestDatabase };
  keepDatabase?: boolean;
  /**
   * A pino logger or Fastify logger options (e.g. an in-memory stream). Default: every line
   * (level trace, redacted as serve.ts does) goes to the leak scanner only. Options with a
   * `stream` are scanned too, then passed on; a logger instance is not scanned.
   */
  logger?: AppOptions['logger'];
}

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
/** The harness's canary secret, stored in a workspace of every test server. */
export const CANARY_SECRET = 'PARLEY_TEST_CANARY';
/** Runs per workspace whose events close() scans (the newest). */
const SCANNED_RUNS = 200;

type LoggerOptions = Record<string, unknown> & { stream?: { write(line: string): unknown } };

/** The logger the app gets: its lines pass through the leak sink. */
function scannedLogger(given: AppOptions['logger'], sink: LeakSink): AppOptions['logger'] {
  if (given === undefined)
    return {
      level: 'trace',
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      stream: sink,
    };
  if (typeof given !== 'object' || 'child' in given) return given;
  const options = given as LoggerOptions;
  const forward = options.stream;
  if (!forward) return { ...options, stream: sink };
  return {
    ...options,
    stream: {
      write(line: string) {
        sink.write(line);
        return forward.write(line);
      },
    },
  };
}

/**
 * The canary secret, in a workspace of its own that no test user belongs to (so no test's
 * lists or counts change): a run in any other workspace, or a log line, that shows it means a
 * secret crossed a boundary. Returns the workspace.
 */
async function plantCanary(store: Store): Promise<string> {
  const user = await store.system.users.create({
    email: `canary-${randomUUID()}@parley.test`,
    displayName: 'Leak canary',
  });
  const { id } = await store.system.workspaces.create({ name: 'canary', ownerUserId: user.id });
  await store.withWorkspace(id, (ws) => ws.secrets.put(CANARY_SECRET, CANARY), {
    actor: { type: 'system' },
  });
  return id;
}

/** Scans the stored events of each workspace's newest runs into the sink. */
async function scanRunEvents(store: Store, workspaceIds: Iterable<string>, sink: LeakSink) {
  for (const workspaceId of workspaceIds) {
    try {
      await store.withWorkspace(workspaceId, async (ws) => {
        for (const run of await ws.runs.list({ limit: SCANNED_RUNS })) {
          const events = await ws.runs.listRunEvents(run.id, { limit: 10_000 });
          sink.report(JSON.stringify([run, events]), `run ${run.id} events`);
        }
      });
    } catch (error) {
      // A workspace a test deleted has nothing left to scan.
      if (!(isStoreError(error) && error.code === 'store.not_found')) throw error;
    }
  }
}

/**
 * A real server on a loopback port with a real database: PGlite in a temporary data
 * directory, or a fresh PostgreSQL database reached as a non-superuser runtime role (so
 * row-level security is enforced, not just guarded).
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const engine = options.engine ?? 'pglite';
  const dataDir = options.reuse?.dataDir ?? (await mkdtemp(join(tmpdir(), 'parley-server-')));
  // A new database starts as a copy of a migrated one (store's test/support/templates.ts):
  // migrate() below finds it up to date, as on any restart.
  if (engine === 'pglite' && !options.reuse?.dataDir) await copyPgliteTemplate(dataDir);
  const database =
    engine === 'postgres'
      ? (options.reuse?.database ?? (await createTestDatabase('server', { migrated: true })))
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
  // A test may configure its own master key (rotation: `v2:<new>,v1:<old>`).
  const masterKey = config.masterKey ?? MASTER_KEY;
  const store = await openStore(
    database
      ? {
          url: database.runtimeUrl,
          migrationUrl: database.adminUrl,
          masterKey,
          onBackgroundError: () => {},
        }
      : { dataDir, masterKey },
  );
  await store.migrate();
  let owner = { ownerId: '', workspaceId: '', token: '' };
  if (!config.multiUser) {
    const boot = await bootstrapSingleUser(store, { dataDir, serverUrl: 'http://127.0.0.1:0' });
    owner = { ownerId: boot.ownerId, workspaceId: boot.workspaceId, token: boot.credentials.token };
  }
  const leaks = createLeakSink({
    needles: [CANARY],
    currentTest: () => expect.getState().currentTestName,
  });
  const workspacesSeen = new Set([
    await plantCanary(store),
    ...(owner.workspaceId ? [owner.workspaceId] : []),
  ]);
  const app = await buildApp({
    config,
    store,
    ...(owner.ownerId ? { localOwnerId: owner.ownerId } : {}),
    ...(options.tuning ? { tuning: options.tuning } : {}),
    logger: scannedLogger(options.logger, leaks),
  });
  // Every workspace a request was granted: close() scans the runs in them.
  app.addHook('onResponse', async (request) => {
    if (request.grant) workspacesSeen.add(request.grant.workspaceId);
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
    leaks,
    async close() {
      await stopApp();
      try {
        await scanRunEvents(store, workspacesSeen, leaks);
      } finally {
        await store.close();
        if (!options.keepDatabase) {
          if (database) await database.drop();
          if (!options.reuse?.dataDir) await rm(dataDir, { recursive: true, force: true });
        }
      }
      leaks.check();
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

/**
 * Signs a new person up on a multi-user server: their cookie-authenticated client (with the
 * server's origin, as a browser sends it) and their first workspace.
 */
export async function signUpOwner(server: { url: string }, email: string) {
  const res = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email, password: 'a-long-enough-password' }),
  });
  expect(res.status).toBe(201);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const workspaceId = ((await res.json()) as { workspaces: { id: string }[] }).workspaces[0]!.id;
  const owner: ReturnType<typeof client> = (method, path, body, headers = {}) =>
    client(server.url)(method, path, body, { cookie, origin: server.url, ...headers });
  return { owner, workspaceId };
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

/** A loopback port nobody listens on right now (for servers started as child processes). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

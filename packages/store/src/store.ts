import { join, resolve } from 'node:path';
import type { PGlite, QueryOptions } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { autoAnalyze } from './auto-analyze.ts';
import { redactUrl, UNREACHABLE_ERRNOS } from './connection.ts';
import { lockDataDir, prepareDataDir } from './data-dir.ts';
import { type Db, queryRows, sqlState, type Tx, toStoreError } from './db.ts';
import { StoreError } from './errors.ts';
import {
  APP_ROLE,
  type MigrateResult,
  OWNER_ROLE,
  runMigrations,
  type SqlSession,
} from './migrate.ts';
import { PgliteThreadClient, type PgliteThreadTransaction } from './pglite-thread/client.ts';
import {
  parseScopeOptions,
  runScoped,
  ScopeContext,
  type ScopeOptions,
  type StatisticsTable,
} from './scope.ts';
import { createSystemSurface, type SystemSurface } from './system/index.ts';
import {
  ephemeralKeyring,
  loadOrCreateKeyFile,
  MasterKeyring,
  parseMasterKeySetting,
} from './vault/keyring.ts';
import { Vault } from './vault/vault.ts';
import { createWorkspaceScope, type WorkspaceScope } from './workspace-scope.ts';

export interface StoreCommonOptions {
  /**
   * The master key in PARLEY_MASTER_KEY's format (`<base64 32 bytes>` or
   * `v2:<base64>,v1:<base64>`). Defaults to the PARLEY_MASTER_KEY environment variable.
   */
  masterKey?: string;
  /** Key file used when no master key is set; created (0600) if missing. Default: `<dataDir>/master.key`. */
  masterKeyFile?: string;
  /**
   * Refuse to open (and to finish migrate()) unless the runtime connection cannot bypass
   * row-level security: a PostgreSQL login role that is not superuser, not BYPASSRLS and not
   * the owner. Multi-user deployments should set it.
   */
  requireEnforcedIsolation?: boolean;
  /**
   * Errors of pooled connections, idle or in use (a server restart, a terminated backend); the
   * query or transaction using one fails on its own. Default: console.warn with the code.
   */
  onBackgroundError?: (error: Error) => void;
}

export type OpenStoreOptions =
  | ({
      /** postgres://user:password@host:port/database: the runtime role's connection. */
      url: string;
      /** A superuser (or owner) connection for migrate(); defaults to `url`. */
      migrationUrl?: string;
      /** Connections in the runtime pool (default 10). */
      poolSize?: number;
    } & StoreCommonOptions)
  | ({
      /** Parley's data directory: the embedded database lives in `<dataDir>/pgdata`. */
      dataDir: string;
    } & StoreCommonOptions)
  | ({ memory: true } & StoreCommonOptions);

export interface IsolationReport {
  /**
   * enforced: the runtime connection cannot leave the runtime role, so even hostile SQL stays
   * inside row-level security (PostgreSQL with a dedicated login role).
   * guarded: every store query runs as the runtime role, so RLS catches application bugs,
   * but the connection itself could switch roles (PGlite always; PostgreSQL as a superuser).
   */
  level: 'enforced' | 'guarded';
  /** The role the connection logged in as. */
  sessionRole: string;
  reason: string;
}

export interface Store {
  readonly kind: 'pglite' | 'postgres';
  /** How strongly workspaces are isolated on this connection (see IsolationReport). */
  readonly isolation: IsolationReport;
  /** Creates or upgrades the schema; safe to call on every start, and from several processes. */
  migrate(): Promise<MigrateResult>;
  /**
   * Runs `fn` in one transaction confined to the workspace: every query inside sees and
   * changes only that workspace's rows, enforced by PostgreSQL row-level security. The
   * workspace id must come from a verified session or token, never from the request alone.
   * `fn` commits when it resolves and rolls back when it throws.
   */
  withWorkspace<T>(
    workspaceId: string,
    fn: (ws: WorkspaceScope) => Promise<T>,
    options?: ScopeOptions,
  ): Promise<T>;
  /** The unscoped surface: users, sessions, token authentication, workspace creation, … */
  readonly system: SystemSurface;
  /** A round trip to the database, in milliseconds (health checks, `parley doctor`). */
  ping(): Promise<number>;
  close(): Promise<void>;
}

/** What tests (and only tests) reach through src/internal.ts. */
export interface StoreInternals {
  db: Db;
  kind: 'pglite' | 'postgres';
  vault: Vault;
  /** The raw transaction behind withWorkspace (no repositories). */
  scoped<T>(workspaceId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs SQL as the connection's own role (PGlite: the superuser), outside any workspace. */
  adminQuery<R>(text: string, params?: unknown[]): Promise<R[]>;
}
export const storeInternals = new WeakMap<Store, StoreInternals>();

interface Engine {
  kind: 'pglite' | 'postgres';
  db: Db;
  migrationTransaction<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
  /** Called once migrations are committed, with what they applied. */
  afterMigrate(result: MigrateResult): Promise<void>;
  adminQuery<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** After a committed transaction that wrote rows of tables needing fresh statistics. */
  afterWrites(writes: ReadonlyMap<StatisticsTable, number>): Promise<void>;
  close(): Promise<void>;
}

const OptionsSchema = z.union([
  z
    .object({
      url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
      migrationUrl: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
        .optional(),
      poolSize: z.number().int().min(1).max(200).optional(),
    })
    .loose(),
  z.object({ dataDir: z.string().min(1) }).loose(),
  z.object({ memory: z.literal(true) }).loose(),
]);

function connectError(error: unknown, url: string): StoreError {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  if (UNREACHABLE_ERRNOS.has(code) || ['3D000', '28P01', '28000', '57P03'].includes(code)) {
    const hint =
      code === '3D000'
        ? 'the database does not exist: create it first'
        : code.startsWith('28')
          ? 'the server refused the user or password'
          : 'is PostgreSQL running there? (locally: pg_ctlcluster 15 main start)';
    return new StoreError(
      'store.unreachable',
      `Cannot connect to PostgreSQL at ${redactUrl(url)} (${code}): ${hint}.`,
      {
        ...(code.length === 5 ? { pgCode: code } : {}),
      },
    );
  }
  return new StoreError(
    'store.unreachable',
    `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${e.message ?? code}.`,
  );
}

async function describeIsolation(
  kind: 'pglite' | 'postgres',
  query: Engine['adminQuery'],
): Promise<IsolationReport> {
  const [row] = await query<{ name: string; superuser: boolean; bypass: boolean; owner: boolean }>(
    `select r.rolname as name, r.rolsuper as superuser, r.rolbypassrls as bypass,
            (case when exists (select 1 from pg_roles where rolname = '${OWNER_ROLE}')
                  then pg_has_role(session_user, '${OWNER_ROLE}', 'MEMBER') else false end)
            or exists (select 1 from pg_tables where schemaname = 'public' and tableowner = session_user) as owner
       from pg_roles r where r.rolname = session_user`,
  );
  return isolationReport(kind, {
    name: row?.name ?? 'unknown',
    superuser: row?.superuser ?? false,
    bypass: row?.bypass ?? false,
    owner: row?.owner ?? false,
  });
}

/**
 * What a connection's role means for row-level security: PGlite is always guarded (its one
 * session is a superuser); on PostgreSQL a superuser, a BYPASSRLS role or the tables' owner is
 * guarded, anything else enforced. openStore() and the diagnostics both report it.
 */
export function isolationReport(
  kind: 'pglite' | 'postgres',
  role: { name: string; superuser: boolean; bypass: boolean; owner: boolean },
): IsolationReport {
  const sessionRole = role.name;
  if (kind === 'pglite') {
    return {
      level: 'guarded',
      sessionRole,
      reason:
        'PGlite always connects as its superuser: row-level security catches bugs, not hostile SQL. Use PostgreSQL for shared deployments.',
    };
  }
  if (role.superuser || role.bypass || role.owner) {
    const what = role.superuser
      ? 'a superuser'
      : role.bypass
        ? 'a BYPASSRLS role'
        : `the owner (or a member of ${OWNER_ROLE})`;
    return {
      level: 'guarded',
      sessionRole,
      reason: `The runtime connection logs in as "${sessionRole}", ${what}. Connect as a dedicated login role and pass a superuser only as migrationUrl.`,
    };
  }
  return {
    level: 'enforced',
    sessionRole,
    reason: `The runtime connection logs in as "${sessionRole}", which cannot bypass row-level security.`,
  };
}

async function openPostgres(
  options: { url: string; migrationUrl?: string; poolSize?: number } & StoreCommonOptions,
): Promise<Engine> {
  // Each engine's driver loads only when it is used: a server on PostgreSQL never needs PGlite's.
  const pg = (await import('pg')).default;
  const { drizzle: drizzlePg } = await import('drizzle-orm/node-postgres');
  const onError =
    options.onBackgroundError ??
    ((e: Error) =>
      console.warn(
        `[parley store] database connection error: ${(e as { code?: string }).code ?? e.name}`,
      ));
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: 'parley',
  });
  // Without a listener a client killed by the server (restart, failover,
  // pg_terminate_backend, DROP DATABASE … FORCE) raises an unhandled 'error' and takes the
  // process down. The pool listens to idle clients only; a client checked out for a
  // transaction, between two of its queries, had no listener (issue #30: 6 crashes in 10).
  // Every client gets one for its whole life: the error is reported here, the client is no
  // longer queryable, so the transaction's next query fails and its caller sees the error,
  // and the pool drops the client on release and connects a new one when next asked.
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectError(error, options.url);
  }
  const migrationUrl = options.migrationUrl ?? options.url;
  return {
    kind: 'postgres',
    db: drizzlePg(pool) as unknown as Db,
    async migrationTransaction(fn) {
      const client = new pg.Client({
        connectionString: migrationUrl,
        application_name: 'parley-migrate',
      });
      client.on('error', onError);
      try {
        await client.connect();
      } catch (error) {
        throw connectError(error, migrationUrl);
      }
      try {
        await client.query('begin');
        const result = await fn({
          query: async (text, params) => (await client.query(text, params)).rows,
        });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        await client.end().catch(() => {});
      }
    },
    async afterMigrate() {},
    // Autovacuum keeps PostgreSQL's statistics fresh (and the runtime role may not ANALYZE).
    async afterWrites() {},
    adminQuery: async (text, params) => (await pool.query(text, params)).rows,
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Engine> {
  let release = async () => {};
  let pgdata: string | undefined;
  if (dataDir !== undefined) {
    await prepareDataDir(dataDir);
    release = await lockDataDir(dataDir);
    pgdata = join(dataDir, 'pgdata');
  }
  // PGlite runs in a worker thread: its queries are synchronous WebAssembly and would
  // otherwise block the server's event loop (pglite-thread/client.ts).
  const openWorker = () =>
    PgliteThreadClient.open(pgdata).catch((error: Error) => {
      throw new StoreError(
        'store.unreachable',
        `Cannot open the embedded database in ${pgdata ?? 'memory'}: ${error.message}`,
      );
    });
  let client: PgliteThreadClient;
  try {
    client = await openWorker();
  } catch (error) {
    await release();
    throw error;
  }
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  /** Drizzle and the store call whichever worker is current (afterMigrate may replace it). */
  const current = {
    query<T>(sql: string, params?: unknown[], options?: QueryOptions) {
      return client.query<T>(sql, params, options);
    },
    transaction<T>(callback: (tx: PgliteThreadTransaction) => Promise<T>) {
      return client.transaction(callback);
    },
  };
  // PGlite has one session and it is a superuser. Outside store transactions it runs as the
  // runtime role, so stray SQL fails closed instead of seeing every workspace.
  const dropPrivileges = async () => {
    const [role] = (
      await current.query<{ ok: boolean }>(
        `select exists (select 1 from pg_roles where rolname = '${APP_ROLE}') as ok`,
      )
    ).rows;
    if (role?.ok) await client.exec(`set role ${APP_ROLE}`);
  };
  await dropPrivileges();
  const adminQuery = async <R>(text: string, params?: unknown[]) =>
    current.transaction(async (tx) => {
      await tx.query('set local role none');
      return (await tx.query<R>(text, params)).rows;
    });
  const analyzer = autoAnalyze(adminQuery);
  return {
    kind: 'pglite',
    // The cast: Drizzle's type asks for the PGlite class, but its driver calls only query()
    // and transaction() (whose tx gets query()), which the thread client provides.
    db: drizzlePglite(current as unknown as PGlite) as unknown as Db,
    migrationTransaction: (fn) =>
      current.transaction((tx) =>
        fn({ query: async (text, params) => (await tx.query<never>(text, params)).rows }),
      ),
    async afterMigrate({ applied }) {
      // Creating a database and migrating it grows the worker's WebAssembly memory and compiled
      // code far beyond what serving needs, and WebAssembly memory never shrinks: a worker
      // that opens the directory afresh holds ~400 MB less (docs/performance.md). An
      // in-memory database would not survive the new worker, so it keeps its one.
      if (pgdata && applied.length > 0) {
        await client.close();
        client = await openWorker();
      }
      await dropPrivileges();
    },
    adminQuery,
    afterWrites: analyzer.afterWrites,
    async close() {
      try {
        await client.close();
      } finally {
        await release();
      }
    },
  };
}

/** A master key from the option or PARLEY_MASTER_KEY, validated before anything is opened. */
function keyringFromSetting(options: OpenStoreOptions): MasterKeyring | undefined {
  const setting = options.masterKey ?? process.env.PARLEY_MASTER_KEY;
  if (setting === undefined || setting.trim() === '') return undefined;
  const where = options.masterKey !== undefined ? 'masterKey' : 'PARLEY_MASTER_KEY';
  return new MasterKeyring('setting', parseMasterKeySetting(setting, where));
}

async function resolveKeyring(
  options: OpenStoreOptions,
  fromSetting: MasterKeyring | undefined,
  dataDir: string | undefined,
): Promise<MasterKeyring | undefined> {
  if (fromSetting) return fromSetting;
  const file = options.masterKeyFile ?? (dataDir ? join(dataDir, 'master.key') : undefined);
  if (file) return loadOrCreateKeyFile(resolve(file));
  if ('memory' in options) return ephemeralKeyring();
  return undefined;
}

/** Migration SQL carries no parameters, so the driver's message is safe to pass on. */
function migrationError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const code = sqlState(error);
  const message = (error as Error).message ?? String(error);
  if (code === '42501' || code === '42710') {
    return new StoreError(
      'store.insufficient_privileges',
      `The migration connection lacks a privilege (${message}). Pass migrationUrl with a superuser, or see the SQL in docs/identity.md.`,
      { pgCode: code },
    );
  }
  return code
    ? new StoreError('store.database_error', `Migration failed (${code}): ${message}`, {
        pgCode: code,
      })
    : error;
}

/**
 * Opens the store: `{ url }` for PostgreSQL (15+ with pgvector ≥ 0.8), `{ dataDir }` for the
 * embedded PGlite database in a directory it creates (0700), `{ memory: true }` for a
 * throw-away in-memory one. There is no default: a missing or empty option never falls back
 * to memory. Call migrate() before first use.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new StoreError(
      'store.invalid_input',
      'openStore needs exactly one of { url: "postgres://…" }, { dataDir: "<directory>" } or { memory: true }.',
      { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    );
  }
  const dataDir = 'dataDir' in options ? resolve(options.dataDir) : undefined;
  const fromSetting = keyringFromSetting(options);
  const engine = 'url' in options ? await openPostgres(options) : await openPglite(dataDir);
  let vault: Vault;
  let isolation: IsolationReport;
  try {
    vault = new Vault(await resolveKeyring(options, fromSetting, dataDir));
    isolation = await describeIsolation(engine.kind, engine.adminQuery);
    if (options.requireEnforcedIsolation && isolation.level !== 'enforced') {
      throw new StoreError('store.isolation_not_enforced', isolation.reason);
    }
  } catch (error) {
    await engine.close();
    throw error;
  }

  let closed = false;
  const assertOpen = () => {
    if (closed) throw new StoreError('store.closed', 'The store has been closed.');
  };
  // async: a bad argument or a closed store rejects the promise instead of throwing synchronously.
  const scoped = async <T>(workspaceId: string | null, fn: (tx: Tx) => Promise<T>) => {
    assertOpen();
    return runScoped(engine.db, workspaceId, fn);
  };
  const withWorkspace = async <T>(
    workspaceId: string,
    fn: (ws: WorkspaceScope) => Promise<T>,
    scopeOptions?: ScopeOptions,
  ) => {
    const [id, opts] = parseScopeOptions(workspaceId, scopeOptions);
    let ctx: ScopeContext | undefined;
    const result = await scoped(id, async (tx) => {
      ctx = new ScopeContext(tx, id, opts, vault);
      try {
        return await fn(createWorkspaceScope(ctx));
      } finally {
        ctx.close();
      }
    });
    if (ctx?.writes.size) await engine.afterWrites(ctx.writes);
    return result;
  };

  const store: Store = {
    kind: engine.kind,
    get isolation() {
      return isolation;
    },
    async migrate() {
      assertOpen();
      let runtimeRole: string | undefined;
      if (engine.kind === 'postgres') {
        [{ name: runtimeRole } = { name: undefined }] = await engine.adminQuery<{ name: string }>(
          'select session_user as name',
        );
      }
      let result: MigrateResult;
      try {
        result = await engine.migrationTransaction((s) =>
          runMigrations(s, runtimeRole ? { runtimeRole } : {}),
        );
      } catch (error) {
        throw migrationError(error);
      }
      await engine.afterMigrate(result);
      isolation = await describeIsolation(engine.kind, engine.adminQuery);
      if (options.requireEnforcedIsolation && isolation.level !== 'enforced') {
        throw new StoreError('store.isolation_not_enforced', isolation.reason);
      }
      return result;
    },
    withWorkspace,
    system: createSystemSurface({
      vault,
      unscoped: (fn) => scoped(null, fn),
      scopedTx: (workspaceId, fn) => scoped(workspaceId, fn),
      withWorkspace,
    }),
    async ping() {
      assertOpen();
      const started = performance.now();
      try {
        await queryRows(engine.db, sql`select 1`);
      } catch (error) {
        throw toStoreError(error);
      }
      return performance.now() - started;
    },
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
    },
  };
  storeInternals.set(store, {
    db: engine.db,
    kind: engine.kind,
    vault,
    scoped,
    adminQuery: async (text, params) => {
      assertOpen();
      return engine.adminQuery(text, params);
    },
  });
  return store;
}

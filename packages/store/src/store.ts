import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, queryRows, sqlState, type Tx, toStoreError } from './db.ts';
import { openPglite } from './engines/pglite.ts';
import { openPostgres } from './engines/postgres.ts';
import { StoreError } from './errors.ts';
import { describeIsolation, type IsolationReport } from './isolation.ts';
import { type MigrateResult, runMigrations } from './migrate.ts';
import { parseScopeOptions, runScoped, ScopeContext, type ScopeOptions } from './scope.ts';
import { createSystemSurface, type SystemSurface } from './system/index.ts';
import {
  ephemeralKeyring,
  loadOrCreateKeyFile,
  MasterKeyring,
  parseMasterKeySetting,
} from './vault/keyring.ts';
import { Vault } from './vault/vault.ts';
import { createWorkspaceScope, type WorkspaceScope } from './workspace-scope.ts';

export { type IsolationReport, isolationReport } from './isolation.ts';

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
    return runScoped(engine.transaction, workspaceId, fn);
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
      // Migrations create the roles and tables the report reads; none applied, nothing changed.
      if (result.applied.length > 0)
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

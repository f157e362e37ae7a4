import { redactUrl, UNREACHABLE_ERRNOS } from '../connection.ts';
import { StoreError, type StoreErrorCode } from '../errors.ts';
import { APP_ROLE, loadMigrations, OWNER_ROLE } from '../migrate.ts';
import { type IsolationReport, isolationReport, type Store, storeInternals } from '../store.ts';

/*
 * Read-only diagnostics for `parley doctor` and operators: what the database is, who the
 * connection logs in as, whether migrate() could get through on it, and how strongly
 * workspaces are isolated. Every query is a SELECT on catalogs (and on the migration record
 * when this role may read it); nothing is created, granted or locked.
 *
 * Two ways in: diagnoseStore(store) on an open store (its own connection, as the role it
 * logged in as), and probeDatabase(url), which connects once, read-only, with a timeout,
 * runs the same checks, closes, and answers { ok: false, code, message } instead of throwing
 * when the database cannot be reached.
 */

/** The login role of the connection and what it may do. */
export interface DatabaseRoleFacts {
  /** The role the connection logged in as (`session_user`). */
  name: string;
  superuser: boolean;
  bypassRls: boolean;
  /**
   * May create objects in schema `public`. Parley's runtime role never needs it (tables are
   * created as parley_owner); PostgreSQL 15+ grants it to nobody by default.
   */
  createOnPublic: boolean;
  /** A member of parley_owner: may run migrations once the roles exist (docs/identity.md §7). */
  ownerMember: boolean;
  /** A member of parley_app: may act as the runtime role inside transactions. */
  appMember: boolean;
}

export interface VectorStatus {
  /** The pgvector extension is installed on the server (CREATE EXTENSION would work for a superuser). */
  available: boolean;
  /** CREATE EXTENSION vector has been run in this database. */
  installed: boolean;
  availableVersion: string | null;
  installedVersion: string | null;
}

export interface MigrationState {
  /** The migrations this version of Parley ships, in order. */
  shipped: string[];
  /**
   * The migrations recorded in the database (empty when it was never migrated); null when
   * this role may not read the record (a runtime role that is not a member of parley_owner).
   */
  applied: string[] | null;
  /** Shipped but not applied, in order; null when `applied` is unknown. */
  pending: string[] | null;
  /** Recorded but not shipped: a newer version of Parley migrated this database. */
  unknown: string[];
  /** Recorded with a different hash: an applied migration was edited. */
  changed: string[];
  /** Whether migrate() on this connection would get through (up to date or not). */
  canApply: boolean;
  /** Why it would not, one sentence each (empty when canApply). */
  blockers: string[];
}

export interface DatabaseDiagnosis {
  kind: 'pglite' | 'postgres';
  /** `server_version`, e.g. "15.8 (Debian 15.8-1)"; PGlite reports its embedded PostgreSQL. */
  serverVersion: string;
  /** `server_version_num`, e.g. 150008. */
  serverVersionNum: number;
  database: string;
  role: DatabaseRoleFacts;
  vector: VectorStatus;
  migrations: MigrationState;
  isolation: IsolationReport;
}

export type ProbeResult =
  | { ok: true; diagnosis: DatabaseDiagnosis }
  | {
      ok: false;
      /** store.unreachable (cannot connect, refused, timed out), store.invalid_input (not a postgres:// URL), … */
      code: StoreErrorCode;
      message: string;
      /** The SQLSTATE when the server answered with one (28P01 wrong password, 3D000 no such database…). */
      pgCode?: string;
    };

export interface ProbeOptions {
  /** Connecting and each query give up after this long (default 5000 ms). */
  timeoutMs?: number;
}

type Query = <R>(text: string, params?: unknown[]) => Promise<R[]>;

const ROLE_SQL = `
  select session_user as name, r.rolsuper as superuser, r.rolbypassrls as bypass,
         coalesce((select has_schema_privilege(session_user, n.oid, 'CREATE')
                     from pg_namespace n where n.nspname = 'public'), false) as create_on_public,
         case when exists (select 1 from pg_roles where rolname = '${OWNER_ROLE}')
              then pg_has_role(session_user, '${OWNER_ROLE}', 'MEMBER') else false end as owner_member,
         case when exists (select 1 from pg_roles where rolname = '${APP_ROLE}')
              then pg_has_role(session_user, '${APP_ROLE}', 'MEMBER') else false end as app_member,
         exists (select 1 from pg_tables where schemaname = 'public' and tableowner = session_user) as owns_tables,
         current_setting('server_version') as server_version,
         current_setting('server_version_num')::int as server_version_num,
         current_database() as database
    from pg_roles r where r.rolname = session_user`;

const VECTOR_SQL = `
  select (select default_version from pg_available_extensions where name = 'vector') as available,
         (select extversion from pg_extension where extname = 'vector') as installed`;

// What migrate() needs from a migration user that is not a superuser (runMigrations in
// ../migrate.ts skips each bootstrap step that is already in place, and fails on the others).
const BOOTSTRAP_SQL = `
  select exists (select 1 from pg_roles where rolname = '${OWNER_ROLE}') as owner_role,
         exists (select 1 from pg_roles where rolname = '${APP_ROLE}') as app_role,
         coalesce((select rolsuper or rolbypassrls from pg_roles where rolname = '${APP_ROLE}'), false) as app_unsafe,
         case when exists (select 1 from pg_roles where rolname = '${OWNER_ROLE}')
              then coalesce((select has_schema_privilege('${OWNER_ROLE}', n.oid, 'CREATE')
                                    and has_schema_privilege('${OWNER_ROLE}', n.oid, 'USAGE')
                               from pg_namespace n where n.nspname = 'public'), false)
              else false end as owner_create,
         case when exists (select 1 from pg_roles where rolname = '${APP_ROLE}')
              then coalesce((select has_schema_privilege('${APP_ROLE}', n.oid, 'USAGE')
                               from pg_namespace n where n.nspname = 'public'), false)
              else false end as app_usage,
         exists (select 1 from pg_namespace where nspname = 'parley_meta') as meta`;

// The record's oid, and whether this role may read it: has_table_privilege on the name
// would fail for a role without USAGE on parley_meta instead of answering false.
const RECORD_SQL = `
  select has_schema_privilege(n.oid, 'USAGE') and has_table_privilege(c.oid, 'SELECT') as readable
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'parley_meta' and c.relname = 'migrations'`;

interface RoleRow {
  name: string;
  superuser: boolean;
  bypass: boolean;
  create_on_public: boolean;
  owner_member: boolean;
  app_member: boolean;
  owns_tables: boolean;
  server_version: string;
  server_version_num: number;
  database: string;
}

async function migrationState(query: Query, role: RoleRow, vector: VectorStatus) {
  const shipped = loadMigrations();
  const [record] = await query<{ readable: boolean }>(RECORD_SQL);
  let recorded: { tag: string; hash: string }[] | null;
  if (!record) recorded = [];
  else if (record.readable)
    recorded = await query<{ tag: string; hash: string }>(
      'select tag, hash from parley_meta.migrations order by tag',
    );
  else recorded = null;

  const byTag = new Map(shipped.map((m) => [m.tag, m]));
  const done = new Set(recorded?.map((r) => r.tag));
  const unknown = (recorded ?? []).filter((r) => !byTag.has(r.tag)).map((r) => r.tag);
  const changed = (recorded ?? [])
    .filter((r) => byTag.has(r.tag) && byTag.get(r.tag)!.hash !== r.hash)
    .map((r) => r.tag);

  const blockers: string[] = [];
  // Nothing pending: migrate() only reads the record (no owner rights needed).
  const current = recorded !== null && shipped.every((m) => done.has(m.tag));
  if (!role.superuser && !current) {
    const [b] = await query<{
      owner_role: boolean;
      app_role: boolean;
      app_unsafe: boolean;
      owner_create: boolean;
      app_usage: boolean;
      meta: boolean;
    }>(BOOTSTRAP_SQL);
    if (!b?.owner_role || !b.app_role)
      blockers.push(
        `the roles ${OWNER_ROLE} and ${APP_ROLE} do not exist yet, and only a superuser creates them`,
      );
    if (!vector.installed)
      blockers.push(
        'the vector extension is not installed in this database, and it is not a trusted extension: a superuser must create it',
      );
    if (b?.owner_role && !b.owner_create)
      blockers.push(`${OWNER_ROLE} may not create objects in schema public`);
    if (b?.app_role && !b.app_usage) blockers.push(`${APP_ROLE} has no USAGE on schema public`);
    if (!b?.meta) blockers.push('the schema parley_meta does not exist');
    if (b?.owner_role && !role.owner_member)
      blockers.push(`"${role.name}" is neither a superuser nor a member of ${OWNER_ROLE}`);
    if (b?.app_unsafe)
      blockers.push(`the role ${APP_ROLE} may bypass row-level security (SUPERUSER or BYPASSRLS)`);
  }
  if (unknown.length > 0)
    blockers.push(`the database was migrated by a newer version of Parley (${unknown.join(', ')})`);
  if (changed.length > 0)
    blockers.push(`applied migrations were edited afterwards (${changed.join(', ')})`);

  const state: MigrationState = {
    shipped: shipped.map((m) => m.tag),
    applied: recorded ? recorded.map((r) => r.tag) : null,
    pending: recorded ? shipped.filter((m) => !done.has(m.tag)).map((m) => m.tag) : null,
    unknown,
    changed,
    canApply: blockers.length === 0,
    blockers,
  };
  return state;
}

async function diagnoseWith(
  kind: 'pglite' | 'postgres',
  query: Query,
  isolation?: IsolationReport,
): Promise<DatabaseDiagnosis> {
  const [role] = await query<RoleRow>(ROLE_SQL);
  if (!role) throw new StoreError('store.database_error', 'The session role is not in pg_roles.');
  const [v] = await query<{ available: string | null; installed: string | null }>(VECTOR_SQL);
  const vector: VectorStatus = {
    available: Boolean(v?.available),
    installed: Boolean(v?.installed),
    availableVersion: v?.available ?? null,
    installedVersion: v?.installed ?? null,
  };
  return {
    kind,
    serverVersion: role.server_version,
    serverVersionNum: Number(role.server_version_num),
    database: role.database,
    role: {
      name: role.name,
      superuser: role.superuser,
      bypassRls: role.bypass,
      createOnPublic: role.create_on_public,
      ownerMember: role.owner_member,
      appMember: role.app_member,
    },
    vector,
    migrations: await migrationState(query, role, vector),
    isolation:
      isolation ?? isolationReport(kind, { ...role, owner: role.owner_member || role.owns_tables }),
  };
}

/**
 * Diagnoses an open store's database as the role its connection logged in as (PGlite: its
 * superuser). Read-only; works before migrate() too.
 */
export async function diagnoseStore(store: Store): Promise<DatabaseDiagnosis> {
  const internals = storeInternals.get(store);
  if (!internals) throw new StoreError('store.invalid_input', 'Not a store opened by openStore().');
  return diagnoseWith(internals.kind, internals.adminQuery, store.isolation);
}

function connectFailure(error: unknown, url: string): Extract<ProbeResult, { ok: false }> {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  const where = `PostgreSQL at ${redactUrl(url)}`;
  if (UNREACHABLE_ERRNOS.has(code)) {
    return {
      ok: false,
      code: 'store.unreachable',
      message: `Cannot connect to ${where} (${code}): is PostgreSQL running there? (locally: pg_ctlcluster 15 main start)`,
    };
  }
  if (/^[0-9A-Z]{5}$/.test(code)) {
    const hint =
      code === '3D000'
        ? 'the database does not exist: create it first'
        : code.startsWith('28')
          ? 'the server refused the user or password'
          : code === '57P03'
            ? 'the server is starting up or shutting down'
            : (e.message ?? 'the server refused the connection');
    return {
      ok: false,
      code: 'store.unreachable',
      message: `Cannot connect to ${where} (${code}): ${hint}.`,
      pgCode: code,
    };
  }
  return {
    ok: false,
    code: 'store.unreachable',
    message: `Cannot connect to ${where}: ${e.message ?? (code || 'unknown error')}.`,
  };
}

/**
 * Connects to a PostgreSQL URL once (read-only, with a timeout), diagnoses it like
 * diagnoseStore() would, and closes. Never throws for a database that cannot be reached or
 * refuses the connection: the answer is `{ ok: false, code, message }` then.
 */
export async function probeDatabase(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url)) {
    return { ok: false, code: 'store.invalid_input', message: 'Not a postgres:// URL.' };
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pg = (await import('pg')).default;
  let client: InstanceType<typeof pg.Client>;
  try {
    client = new pg.Client({
      connectionString: url,
      application_name: 'parley-doctor',
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
    });
  } catch (error) {
    return {
      ok: false,
      code: 'store.invalid_input',
      message: `The URL cannot be used: ${(error as Error).message}`,
    };
  }
  // An error after connecting (the server going away) must not be unhandled.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    return connectFailure(error, url);
  }
  try {
    await client.query('set session characteristics as transaction read only');
    const query: Query = async <R>(text: string, params?: unknown[]) =>
      (await client.query(text, params)).rows as R[];
    return { ok: true, diagnosis: await diagnoseWith('postgres', query) };
  } catch (error) {
    if (error instanceof StoreError) return { ok: false, code: error.code, message: error.message };
    const code = (error as { code?: string }).code;
    const sqlState = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
    return {
      ok: false,
      code: sqlState ? 'store.database_error' : 'store.unreachable',
      message: `Diagnosing ${redactUrl(url)} failed${sqlState ? ` (${sqlState})` : ''}: ${(error as Error).message}`,
      ...(sqlState ? { pgCode: sqlState } : {}),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

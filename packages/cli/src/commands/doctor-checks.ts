import { existsSync } from 'node:fs';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { ParleyApiError, ParleyConnectionError } from '@parley/client';
import { type AgentDefinition, loadAgentFile, type ModelRef } from '@parley/core';
import { DEFAULT_BASE_URLS, PROVIDER_KEY_PAGES } from '@parley/providers/catalogue';
import {
  ConfigError,
  CredentialsSchema,
  checkModelKey,
  credentialsPath,
  type DatabaseDiagnosis,
  diagnoseEmbeddedDatabase,
  keySecretOf,
  loadConfig,
  type ProbeResult,
  probePostgres,
  type ServerConfig,
  sandboxReport,
} from '@parley/server';
import { CliError, type Io, line, painter } from '../io.ts';
import { withProgress } from '../progress.ts';
import { AGENT_FILES, projectEnv } from '../project.ts';
import { shellQuote } from '../shell-quote.ts';
import { resolveTarget, type Target } from '../target.ts';

/*
 * `parley doctor`: every check says ✓ (fine), ! (works, but look at it) or ✗ (will fail),
 * and every ✗ says exactly what to run or change. Nothing is modified: the data directory
 * is inspected, not created; the embedded database is opened only when no server holds it
 * and it exists already; PostgreSQL is probed read-only; provider keys are checked with one
 * cheap GET each.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it: set for every failure, and for warnings that have a remedy. */
  fix?: string;
}

/** Each outbound request (provider keys, the server, the port's owner) gives up after this. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Clock skew above this is reported: token and session expiry are judged by the server. */
const MAX_SKEW_SECONDS = 30;
const MIN_NODE = [24, 11] as const;

const mode = (m: number) => `0${(m & 0o777).toString(8)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

/** `postgres://user:pw@host:5432/db` with another user and no password: for fixes to copy. */
function withUser(url: string, user: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${user}@${u.host}${u.pathname}`;
  } catch {
    return `postgres://${user}@<host>/<database>`;
  }
}

type HttpAnswer =
  | { ok: true; status: number; body: string; date: string | null; elapsedMs: number; at: number }
  | { ok: false; error: string };

/** One GET with a timeout; never throws. */
async function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await response.text();
    const finished = Date.now();
    return {
      ok: true,
      status: response.status,
      body,
      date: response.headers.get('date'),
      elapsedMs: finished - started,
      at: (started + finished) / 2,
    };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, error: reason };
  }
}

const isParleyHealth = (a: HttpAnswer) => {
  if (!a.ok || a.status !== 200) return false;
  try {
    return (JSON.parse(a.body) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
};

interface Context {
  io: Io;
  cwd: string;
  dataDir: string;
  config: ServerConfig | undefined;
  host: string;
  port: number;
  /** Set by the data directory check: the pid holding the embedded database, if alive. */
  lockPid?: number;
  dataDirOk: boolean;
  /** A Parley server found on the configured port. */
  localServer?: string;
}

// ---------------------------------------------------------------------------------------------
// Node

function checkNode(): Check {
  const version = process.versions.node;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  const detail = `Node ${version} (${process.execPath})`;
  return ok
    ? { name: 'node', status: 'ok', detail }
    : {
        name: 'node',
        status: 'fail',
        detail: `${detail}: Parley needs Node ${MIN_NODE.join('.')} or newer`,
        fix: 'Run npm install in the project (it brings Node 24 into node_modules) and use npx parley, or install Node 24.11+ (https://nodejs.org, or nvm install 24).',
      };
}

// ---------------------------------------------------------------------------------------------
// Configuration and data directory

/** Which sandbox community plugins and stdio MCP programs get here (PARLEY_SANDBOX). */
function checkSandbox(ctx: Context): Check {
  const report = sandboxReport(ctx.config?.sandbox ?? 'os');
  const status = report.holds === 'os' ? 'ok' : 'warn';
  return {
    name: 'sandbox',
    status,
    detail: report.detail,
    ...(report.fix ? { fix: report.fix } : {}),
  };
}

function checkConfig(ctx: Context): Check {
  if (ctx.config) {
    const c = ctx.config;
    const database = c.databaseUrl ? `PostgreSQL at ${redactUrl(c.databaseUrl)}` : 'PGlite';
    return {
      name: 'config',
      status: 'ok',
      detail: `${c.multiUser ? 'multi-user' : 'single-user'}, ${database}, ${c.host}:${c.port}`,
    };
  }
  let error: unknown;
  try {
    loadConfig({ ...ctx.io.env, PARLEY_DATA_DIR: ctx.dataDir });
  } catch (e) {
    error = e;
  }
  const variable = error instanceof ConfigError ? error.variable : 'PARLEY_*';
  return {
    name: 'config',
    status: 'fail',
    detail: (error as Error).message,
    fix: `Correct or unset ${variable} (every setting: docs/server.md).`,
  };
}

async function checkDataDir(ctx: Context): Promise<Check> {
  const dir = ctx.dataDir;
  const name = 'data dir';
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return {
        name,
        status: 'fail',
        detail: `Cannot inspect ${dir}: ${(error as Error).message}`,
        fix: `Make ${dirname(dir)} readable by you, or set PARLEY_DATA_DIR to a directory of yours.`,
      };
    }
    let parent = dirname(dir);
    while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
    try {
      await access(parent, constants.W_OK | constants.X_OK);
      ctx.dataDirOk = true;
      return {
        name,
        status: 'ok',
        detail: `${dir} does not exist yet: parley start creates it (mode 0700)`,
      };
    } catch {
      return {
        name,
        status: 'fail',
        detail: `${dir} does not exist and cannot be created: ${parent} is not writable by you`,
        fix: `mkdir -p ${shellQuote(dir)} && chmod 700 ${shellQuote(dir)} (as a user who may write ${parent}, then chown it to you), or set PARLEY_DATA_DIR to a directory you own.`,
      };
    }
  }
  if (!s.isDirectory())
    return {
      name,
      status: 'fail',
      detail: `${dir} is not a directory`,
      fix: `Move ${dir} out of the way, or set PARLEY_DATA_DIR to another path.`,
    };
  const uid = process.getuid?.();
  if (uid !== undefined && s.uid !== uid)
    return {
      name,
      status: 'fail',
      detail: `${dir} belongs to uid ${s.uid}, not to you (uid ${uid}): the server refuses it`,
      fix: `sudo chown -R ${uid} ${shellQuote(dir)}`,
    };
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    return {
      name,
      status: 'fail',
      detail: `${dir} is not writable (mode ${mode(s.mode)})`,
      fix: `chmod 700 ${shellQuote(dir)}`,
    };
  }
  if ((s.mode & 0o077) !== 0)
    return {
      name,
      status: 'fail',
      detail: `${dir} has mode ${mode(s.mode)}: other users may look inside, and it holds the database, the master key and the owner's token`,
      fix: `chmod 700 ${shellQuote(dir)}`,
    };
  ctx.dataDirOk = true;
  let lock = '';
  const pid = Number.parseInt(await readFile(join(dir, 'parley.lock'), 'utf8').catch(() => ''), 10);
  if (Number.isInteger(pid) && pid > 0) {
    if (alive(pid)) {
      ctx.lockPid = pid;
      lock = `; the embedded database is open in process ${pid} (a running Parley server: fine)`;
    } else lock = `; a stale lock of process ${pid}, which is gone (the next start removes it)`;
  }
  return { name, status: 'ok', detail: `${dir} (mode 0700, writable)${lock}` };
}

async function checkCredentials(ctx: Context): Promise<Check> {
  const path = credentialsPath(ctx.dataDir);
  const name = 'credentials';
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch {
    return {
      name,
      status: 'skip',
      detail: ctx.config?.multiUser
        ? 'none (multi-user mode: people sign in; parley login keeps your token)'
        : `none yet: parley start writes the owner's API token to ${path}`,
    };
  }
  const uid = process.getuid?.();
  if ((s.mode & 0o077) !== 0 || (uid !== undefined && s.uid !== uid))
    return {
      name,
      status: 'fail',
      detail: `${path} has mode ${mode(s.mode)}: the owner's API token in it is readable by others`,
      fix: `chmod 600 ${shellQuote(path)}${uid !== undefined && s.uid !== uid ? ` && sudo chown ${uid} ${shellQuote(path)}` : ''} (and, since others could read it, revoke that token: parley token list / parley token revoke <id>)`,
    };
  let parsed: ReturnType<typeof CredentialsSchema.safeParse> | undefined;
  try {
    parsed = CredentialsSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success)
    return {
      name,
      status: 'fail',
      detail: `${path} is not valid (${parsed ? parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : 'not JSON'})`,
      fix: `rm ${shellQuote(path)}, then parley start writes a new one with a fresh token.`,
    };
  return {
    name,
    status: 'ok',
    detail: `${path} (mode 0600): the owner's token for ${parsed.data.server}, workspace ${parsed.data.workspaceId}`,
  };
}

function validMasterKeySetting(value: string): number | undefined {
  const entries = value.split(/[\s,]+/).filter(Boolean);
  if (entries.length === 0) return undefined;
  const keys = entries.length === 1 && !/^v\d+:/.test(entries[0]!) ? [`v1:${entries[0]}`] : entries;
  for (const entry of keys) {
    const m = /^v(\d+):([A-Za-z0-9+/_-]+={0,2})$/.exec(entry);
    if (!m || Number(m[1]) < 1 || Buffer.from(m[2]!, 'base64').length !== 32) return undefined;
  }
  return keys.length;
}

async function checkMasterKey(ctx: Context): Promise<Check> {
  const name = 'master key';
  const setting = ctx.io.env.PARLEY_MASTER_KEY;
  if (setting?.trim()) {
    const versions = validMasterKeySetting(setting);
    return versions
      ? {
          name,
          status: 'ok',
          detail: `PARLEY_MASTER_KEY (${plural(versions, 'version')}); the key file is not used`,
        }
      : {
          name,
          status: 'fail',
          detail:
            'PARLEY_MASTER_KEY is malformed: it must be the base64 of 32 bytes, or v2:<base64>,v1:<base64>',
          fix: 'Set it to the key your secrets were stored with; a new installation can use: PARLEY_MASTER_KEY=$(openssl rand -base64 32)',
        };
  }
  const path = join(ctx.dataDir, 'master.key');
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch {
    return {
      name,
      status: 'skip',
      detail: `none yet: parley start creates ${path} (mode 0600); back it up, secrets cannot be read without it`,
    };
  }
  if ((s.mode & 0o077) !== 0)
    return {
      name,
      status: 'fail',
      detail: `${path} has mode ${mode(s.mode)}: the server refuses a key file others can read`,
      fix: `chmod 600 ${shellQuote(path)}`,
    };
  try {
    const file = JSON.parse(await readFile(path, 'utf8')) as { format?: string; keys?: unknown[] };
    if (file.format !== 'parley-master-keys/1' || !Array.isArray(file.keys)) throw new Error();
    return {
      name,
      status: 'ok',
      detail: `${path} (mode 0600, ${plural(file.keys.length, 'key version')}); keep a backup`,
    };
  } catch {
    return {
      name,
      status: 'fail',
      detail: `${path} is not a Parley master key file`,
      fix: `Restore ${path} from your backup (secrets stored with the lost key cannot be decrypted); only on an installation without secrets, delete it and parley start makes a new one.`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Database

function migrationsCheck(
  d: DatabaseDiagnosis,
  options: { migrationUrl?: string; runtimeUrl?: string } = {},
): Check {
  const m = d.migrations;
  const name = 'migrations';
  if (m.unknown.length > 0)
    return {
      name,
      status: 'fail',
      detail: `The database was migrated by a newer version of Parley (${m.unknown.join(', ')})`,
      fix: 'Upgrade Parley to the version that migrated it (this one ships up to '.concat(
        `${m.shipped.at(-1)}); never run an older server on a newer database.`,
      ),
    };
  if (m.changed.length > 0)
    return {
      name,
      status: 'fail',
      detail: `Applied migrations differ from the ones this version ships (${m.changed.join(', ')})`,
      fix: 'Reinstall Parley (npm ci): an applied migration file was edited.',
    };
  const pending = m.pending ?? [];
  const state =
    m.pending === null
      ? 'the record is not readable by this role'
      : pending.length > 0
        ? `${plural(pending.length, 'migration')} pending (${pending.join(', ')})`
        : `up to date (${plural(m.shipped.length, 'migration')})`;
  if (m.canApply)
    return {
      name,
      status: 'ok',
      detail: `${state}${pending.length > 0 ? `: parley start (or parley migrate) applies ${pending.length === 1 ? 'it' : 'them'}` : ''}`,
    };
  const role = d.role;
  const who = `"${role.name}"${role.superuser ? '' : role.createOnPublic ? ' (not a superuser)' : ' (not a superuser, no CREATE on schema public)'}`;
  const because = m.blockers.join('; ');
  if (!options.migrationUrl) {
    const superuser = withUser(options.runtimeUrl ?? '', 'postgres');
    return {
      name,
      status: 'fail',
      detail: `${state}. parley start runs migrate() as the runtime role ${who}, which cannot: ${because}`,
      fix: `Set PARLEY_MIGRATION_DATABASE_URL to a superuser, e.g. PARLEY_MIGRATION_DATABASE_URL=${superuser} (only migrations use it; the server keeps PARLEY_DATABASE_URL), or have a superuser run the bootstrap SQL in docs/identity.md §7 and GRANT parley_owner TO ${role.name}.`,
    };
  }
  return {
    name,
    status: 'fail',
    detail: `${state}. Migrations run as ${who} (PARLEY_MIGRATION_DATABASE_URL), which cannot: ${because}`,
    fix: `Point PARLEY_MIGRATION_DATABASE_URL at a superuser, or have a superuser run the bootstrap SQL in docs/identity.md §7 with GRANT parley_owner TO ${role.name}.`,
  };
}

function vectorCheck(runtime: DatabaseDiagnosis, migrator: DatabaseDiagnosis): Check {
  const v = runtime.vector;
  const major = Math.floor(runtime.serverVersionNum / 10_000);
  const name = 'pgvector';
  if (v.installed) {
    const old = /^0\.[0-7]\./.test(v.installedVersion ?? '');
    return old
      ? {
          name,
          status: 'warn',
          detail: `vector ${v.installedVersion} is installed; Parley needs 0.8 or newer`,
          fix: `Install pgvector 0.8+ for PostgreSQL ${major}, then as a superuser: ALTER EXTENSION vector UPDATE;`,
        }
      : { name, status: 'ok', detail: `vector ${v.installedVersion} installed` };
  }
  if (!v.available)
    return {
      name,
      status: 'fail',
      detail: `pgvector is not installed on this PostgreSQL ${major} server`,
      fix: `Install pgvector 0.8+ on the database server (Debian/Ubuntu: apt install postgresql-${major}-pgvector; Docker: the pgvector/pgvector:pg${major} image), then run parley doctor again.`,
    };
  if (migrator.role.superuser)
    return {
      name,
      status: 'ok',
      detail: `vector ${v.availableVersion} available: migrate() creates the extension as "${migrator.role.name}"`,
    };
  return {
    name,
    status: 'fail',
    detail: `vector ${v.availableVersion} is available but not installed in "${runtime.database}", and it is not a trusted extension: only a superuser can create it ("${migrator.role.name}" is not one)`,
    fix: `As a superuser: psql -d ${shellQuote(runtime.database)} -c 'CREATE EXTENSION vector;' (or set PARLEY_MIGRATION_DATABASE_URL to a superuser: migrate() then creates it).`,
  };
}

function isolationCheck(d: DatabaseDiagnosis, runtimeUrl: string): Check {
  if (d.isolation.level === 'enforced')
    return {
      name: 'isolation',
      status: 'ok',
      detail: `enforced: "${d.role.name}" cannot bypass row-level security`,
    };
  const what = d.role.superuser
    ? 'a superuser'
    : d.role.bypassRls
      ? 'a BYPASSRLS role'
      : 'the owner of the tables (a member of parley_owner)';
  return {
    name: 'isolation',
    status: 'warn',
    detail: `only guarded: the server connects as "${d.role.name}", ${what}, so row-level security catches bugs but not hostile SQL`,
    fix: `As a superuser: CREATE ROLE parley_api LOGIN PASSWORD '…'; (never SUPERUSER or BYPASSRLS), then PARLEY_DATABASE_URL=${withUser(runtimeUrl, 'parley_api:…')} and PARLEY_MIGRATION_DATABASE_URL=${redactUrl(runtimeUrl)} (docs/identity.md §7).`,
  };
}

function probeFailure(result: Extract<ProbeResult, { ok: false }>, variable: string): Check {
  const pg = result.pgCode ?? '';
  const fix =
    pg === '3D000'
      ? `Create the database (as a superuser: createdb <name>), or correct the database name in ${variable}.`
      : pg.startsWith('28')
        ? `Correct the user and password in ${variable} (and check pg_hba.conf allows this client).`
        : result.code === 'store.invalid_input'
          ? `Set ${variable} to a postgres://user:password@host:port/database URL.`
          : `Start PostgreSQL (locally: pg_ctlcluster 15 main start, or docker run -p 5432:5432 pgvector/pgvector:pg17), or correct the host and port in ${variable}.`;
  return { name: 'database', status: 'fail', detail: result.message, fix };
}

async function checkPostgres(ctx: Context, checks: Check[]) {
  const url = ctx.config!.databaseUrl!;
  const migrationUrl = ctx.config!.migrationDatabaseUrl;
  const [runtime, migration] = await withProgress(
    ctx.io,
    'Connecting to PostgreSQL',
    Promise.all([
      probePostgres(url, { timeoutMs: REQUEST_TIMEOUT_MS }),
      migrationUrl ? probePostgres(migrationUrl, { timeoutMs: REQUEST_TIMEOUT_MS }) : undefined,
    ]),
  );
  if (!runtime.ok) {
    checks.push(probeFailure(runtime, 'PARLEY_DATABASE_URL'));
    return;
  }
  const d = runtime.diagnosis;
  const version = d.serverVersion.split(' ')[0];
  const tooOld = d.serverVersionNum < 150_000;
  checks.push(
    tooOld
      ? {
          name: 'database',
          status: 'fail',
          detail: `PostgreSQL ${version} at ${redactUrl(url)}: Parley needs PostgreSQL 15 or newer`,
          fix: 'Upgrade the database server to PostgreSQL 15+.',
        }
      : {
          name: 'database',
          status: 'ok',
          detail: `PostgreSQL ${version} at ${redactUrl(url)}, as "${d.role.name}"${d.role.superuser ? ' (superuser)' : ''}${d.role.createOnPublic ? '' : ', no CREATE on schema public'}`,
        },
  );
  let migrator = d;
  if (migration && !migration.ok) {
    const failed = probeFailure(migration, 'PARLEY_MIGRATION_DATABASE_URL');
    checks.push({ ...failed, name: 'migrations' });
  } else {
    if (migration?.ok) migrator = migration.diagnosis;
    checks.push(
      migrationsCheck(migrator, {
        runtimeUrl: url,
        ...(migrationUrl ? { migrationUrl } : {}),
      }),
    );
  }
  checks.push(vectorCheck(d, migrator));
  checks.push(isolationCheck(d, url));
}

async function checkPglite(ctx: Context, checks: Check[]) {
  const pgdata = join(ctx.dataDir, 'pgdata');
  const multiUser = ctx.config?.multiUser ?? false;
  if (ctx.lockPid !== undefined) {
    checks.push({
      name: 'database',
      status: 'ok',
      detail: `PGlite in ${pgdata}, open in the running server (process ${ctx.lockPid}); stop it to inspect the schema`,
    });
  } else if (!existsSync(pgdata)) {
    checks.push({
      name: 'database',
      status: 'ok',
      detail: `PGlite (embedded): parley start creates it in ${pgdata}`,
    });
  } else if (!ctx.dataDirOk) {
    checks.push({
      name: 'database',
      status: 'skip',
      detail: `PGlite in ${pgdata}: not opened until the data directory is fixed`,
    });
  } else {
    const result = await withProgress(
      ctx.io,
      'Opening the embedded database',
      diagnoseEmbeddedDatabase(ctx.dataDir),
    );
    if (!result.ok) {
      checks.push(
        result.locked
          ? {
              name: 'database',
              status: 'ok',
              detail: `PGlite in ${pgdata}: another process opened it just now (a server starting?)`,
            }
          : {
              name: 'database',
              status: 'fail',
              detail: `PGlite in ${pgdata} cannot be opened: ${result.message}`,
              fix: `Move ${pgdata} aside and restore it from a backup (or, to start over, delete it: parley start creates an empty one).`,
            },
      );
    } else {
      const { diagnosis } = result;
      checks.push({
        name: 'database',
        status: 'ok',
        detail: `PGlite ${diagnosis.serverVersion} in ${pgdata}`,
      });
      checks.push(migrationsCheck(diagnosis));
    }
  }
  checks.push(
    multiUser
      ? {
          name: 'isolation',
          status: 'warn',
          detail:
            'only guarded: PGlite runs every query as its superuser, so row-level security catches bugs but not hostile SQL, in a multi-user server',
          fix: 'For a shared deployment use PostgreSQL: PARLEY_DATABASE_URL=postgres://parley_api:…@db/parley and PARLEY_MIGRATION_DATABASE_URL=postgres://postgres:…@db/parley (docs/identity.md §7).',
        }
      : {
          name: 'isolation',
          status: 'ok',
          detail:
            'guarded (PGlite): fine for one person; for a shared deployment use PostgreSQL (PARLEY_DATABASE_URL)',
        },
  );
}

// ---------------------------------------------------------------------------------------------
// Port

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolveListen) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolveListen(error.code ?? 'error'));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolveListen(undefined));
    });
  });
}

function httpBase(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

async function checkPort(ctx: Context): Promise<Check> {
  const { host, port } = ctx;
  const where = `${host}:${port}`;
  const name = 'port';
  if (port === 0)
    return { name, status: 'ok', detail: 'PARLEY_PORT=0: the server takes a free port at start' };
  const code = await tryListen(host, port);
  if (code === undefined) return { name, status: 'ok', detail: `${where} is free` };
  if (code === 'EADDRINUSE') {
    const base = httpBase(host, port);
    const health = await withProgress(ctx.io, `Asking ${base}/healthz`, get(`${base}/healthz`));
    if (isParleyHealth(health)) {
      ctx.localServer = base;
      return { name, status: 'ok', detail: `${where}: a Parley server is running there` };
    }
    const answer = health.ok ? `HTTP ${health.status} to GET /healthz` : health.error;
    return {
      name,
      status: 'fail',
      detail: `${where} is in use by another program, not a Parley server (${answer})`,
      fix: `Stop that program (find it: lsof -nP -iTCP:${port} -sTCP:LISTEN, or ss -ltnp 'sport = :${port}'), or use another port: PARLEY_PORT=${port === 65_535 ? 4100 : port + 1} parley start`,
    };
  }
  if (code === 'EACCES')
    return {
      name,
      status: 'fail',
      detail: `Not allowed to listen on ${where} (ports below 1024 need privileges)`,
      fix: 'Use a port above 1023: PARLEY_PORT=4000 (put a reverse proxy in front for 80/443).',
    };
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return {
      name,
      status: 'fail',
      detail: `${host} is not an address of this machine (${code})`,
      fix: 'Set PARLEY_HOST to an address of this machine, e.g. PARLEY_HOST=127.0.0.1',
    };
  return {
    name,
    status: 'fail',
    detail: `Cannot listen on ${where}: ${code}`,
    fix: 'Set PARLEY_HOST and PARLEY_PORT to an address and port this user may listen on.',
  };
}

// ---------------------------------------------------------------------------------------------
// The project's agent and its model keys

async function checkModel(
  ctx: Context,
  ref: ModelRef,
  env: Record<string, string>,
): Promise<Check> {
  const name = `model ${ref.provider}/${ref.model}`;
  if (ref.provider === 'scripted')
    return { name, status: 'ok', detail: 'scripted: plays agent.yaml back offline, needs no key' };
  const base = (ref.baseURL ?? DEFAULT_BASE_URLS[ref.provider] ?? '').replace(/\/+$/, '');
  const secret = keySecretOf(ref);
  const key = secret ? (env[secret] ?? ctx.io.env[secret]) : undefined;
  if (secret && !key)
    return {
      name,
      status: 'fail',
      detail: `${secret} is not set (neither in .env nor in the environment)`,
      fix: `Add ${secret}=<your key> to .env${PROVIDER_KEY_PAGES[ref.provider] ? ` (get one at ${PROVIDER_KEY_PAGES[ref.provider]})` : ''}; parley deploy sends it to the server.`,
    };
  // The same cheap request the server's key check makes (GET …/models, or /key on OpenRouter).
  const check = await checkModelKey(ref, new Map(secret && key ? [[secret, key]] : []), {
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const last4 = key && key.length >= 12 ? ` (…${key.slice(-4)})` : '';
  const named = secret ? ` ${secret}` : '';
  switch (check.result) {
    case 'ok':
      return {
        name,
        status: 'ok',
        detail: secret
          ? `${secret}${last4} accepted by ${check.host}`
          : `${base} answers (no key needed)`,
      };
    case 'rejected':
      return secret
        ? {
            name,
            status: 'fail',
            detail: `${check.host} rejected ${secret}${last4} (HTTP ${check.httpStatus})`,
            fix: `Replace ${secret} in .env with a valid key${PROVIDER_KEY_PAGES[ref.provider] ? ` (${PROVIDER_KEY_PAGES[ref.provider]})` : ''}, then parley deploy.`,
          }
        : {
            name,
            status: 'fail',
            detail: `${base} wants a key (HTTP ${check.httpStatus}) and the agent names none`,
            fix: 'Add apiKeySecret: <SECRET_NAME> to the model in agent.yaml and put SECRET_NAME=<key> in .env.',
          };
    case 'refused':
      return {
        name,
        status: 'fail',
        detail: check.detail,
        fix: `Use an https:// baseURL in agent.yaml (plain http only reaches this machine, e.g. http://127.0.0.1:11434/v1).`,
      };
    case 'unreachable':
      return {
        name,
        status: 'warn',
        detail: `cannot check${named}: ${check.detail}`,
        fix:
          ref.provider === 'openai-compatible'
            ? `Is the server at ${base} running (Ollama: ollama serve)? Runs fail the same way until it answers.`
            : 'Check the network or proxy of this machine; runs from here fail the same way.',
      };
    default: {
      const status = check.httpStatus ?? 0;
      return {
        name,
        status: 'warn',
        detail: `cannot check${named}: ${check.host} answered HTTP ${status}`,
        ...(status === 429 || status >= 500
          ? { fix: 'The provider is busy or failing; try again later.' }
          : {
              fix: `Check baseURL in agent.yaml (${base}): it must be the API root with its version, e.g. …/v1.`,
            }),
      };
    }
  }
}

async function checkAgent(ctx: Context, checks: Check[]) {
  const file = AGENT_FILES.map((f) => join(ctx.cwd, f)).find(existsSync);
  if (!file) {
    checks.push({
      name: 'agent',
      status: 'skip',
      detail: `no agent file here (${AGENT_FILES.join(', ')}): agent and model key checks skipped; run parley doctor in a project made by parley create`,
    });
    return;
  }
  let agent: AgentDefinition;
  try {
    agent = await loadAgentFile(file);
  } catch (error) {
    checks.push({
      name: 'agent',
      status: 'fail',
      detail: `${shown(file, ctx.cwd)} is not a valid agent:\n${(error as Error).message}`,
      fix: `Correct ${shown(file, ctx.cwd)} where the lines above say (every field: docs/agents.md).`,
    });
    return;
  }
  const refs = [agent.model, ...agent.fallbackModels];
  checks.push({
    name: 'agent',
    status: 'ok',
    detail: `${agent.name} (${shown(file, ctx.cwd)}): ${agent.model.provider}/${agent.model.model}${agent.fallbackModels.length ? ` + ${plural(agent.fallbackModels.length, 'fallback')}` : ''}`,
  });
  const seen = new Set<string>();
  const unique = refs.filter((ref) => {
    const key = JSON.stringify([ref.provider, ref.model, ref.baseURL, keySecretOf(ref)]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const env = projectEnv(ctx.io);
  checks.push(
    ...(await withProgress(
      ctx.io,
      'Checking model keys',
      Promise.all(unique.map((ref) => checkModel(ctx, ref, env))),
    )),
  );
}

// ---------------------------------------------------------------------------------------------
// The CLI's target server, and the clock against it

function tokenFix(target: Target): string {
  if (target.source === '--token') return 'Pass a valid token with --token (parley token create).';
  if (target.source === 'PARLEY_TOKEN')
    return `Replace or unset PARLEY_TOKEN (a new one: parley token create <name> --server ${shellQuote(target.server)}).`;
  if (target.source === 'parley login') return `parley login ${shellQuote(target.server)}`;
  return `Restart the local server (parley start): it writes a fresh token to ${target.source}.`;
}

/** The CLI's own server and token; `server` is set when that server answered. */
async function checkTarget(
  ctx: Context,
  values: Record<string, unknown>,
): Promise<{ check: Check; server?: string }> {
  const check = (c: Check, server?: string) => (server ? { check: c, server } : { check: c });
  const name = 'server';
  let target: Target;
  try {
    target = await withProgress(ctx.io, 'Finding the server', resolveTarget(values, ctx.io));
  } catch (error) {
    if (error instanceof CliError && /^No Parley server/.test(error.message))
      return check({
        name,
        status: 'warn',
        detail: 'no server for the CLI to talk to yet',
        fix: 'Start one here (parley start), or log in to one (parley login <url>).',
      });
    if (error instanceof ParleyConnectionError)
      return check({
        name,
        status: 'warn',
        detail: `the server does not answer: ${error.message}`,
        fix: 'Start it (parley start here), or pass --server / parley login <url> for another one.',
      });
    if (error instanceof ParleyApiError)
      return check({
        name,
        status: 'fail',
        detail: `the server refused the token: ${error.message} (${error.code})`,
        fix: 'parley login <server-url>, or pass --token.',
      });
    if (error instanceof CliError)
      return check({
        name,
        status: 'fail',
        detail: error.message,
        fix: 'parley login <server-url>, or pass --server and --token.',
      });
    throw error;
  }
  try {
    const me = await withProgress(ctx.io, `Checking ${target.server}`, target.client.me());
    const who = me.user ? `as ${me.user.email}` : 'as a token';
    const expires = me.token ? Date.parse(me.token.expiresAt) - Date.now() : undefined;
    const soon = expires !== undefined && expires < 7 * 86_400_000;
    const detail = `${target.server} accepts the token from ${target.source} (${who}, workspace ${target.workspaceId})`;
    return check(
      soon
        ? {
            name,
            status: 'warn',
            detail: `${detail}, but it expires in ${Math.max(0, Math.floor(expires / 3_600_000))} h`,
            fix: tokenFix(target),
          }
        : { name, status: 'ok', detail },
      target.server,
    );
  } catch (error) {
    if (error instanceof ParleyApiError)
      return check(
        {
          name,
          status: 'fail',
          detail: `${target.server} rejected the token from ${target.source}: ${error.message} (${error.code})`,
          fix: tokenFix(target),
        },
        target.server,
      );
    if (error instanceof ParleyConnectionError)
      return check({
        name,
        status: 'warn',
        detail: `${target.server} does not answer (${error.message}); the token from ${target.source} is unchecked`,
        fix: /^http:\/\/(127\.|localhost|\[::1\])/.test(target.server)
          ? 'Start the server (parley start), then run parley doctor again.'
          : `Check that ${target.server} is up and reachable from here, or log in to another server (parley login <url>).`,
      });
    throw error;
  }
}

async function checkClock(ctx: Context, server: string | undefined): Promise<Check> {
  const name = 'clock';
  if (!server)
    return { name, status: 'skip', detail: 'no Parley server reachable to compare the clock with' };
  const answer = await withProgress(ctx.io, 'Comparing clocks', get(`${server}/healthz`));
  if (!answer.ok || !answer.date)
    return {
      name,
      status: 'skip',
      detail: `${server} gave no Date header to compare the clock with`,
    };
  const skew = Math.round((Date.parse(answer.date) - answer.at) / 1000);
  // The Date header has whole seconds: a second of difference is rounding.
  if (Math.abs(skew) <= MAX_SKEW_SECONDS)
    return {
      name,
      status: 'ok',
      detail: `within ${Math.max(1, Math.abs(skew))} s of ${server}`,
    };
  return {
    name,
    status: 'warn',
    detail: `this machine's clock is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} ${server}: tokens and sessions expire by the server's clock, and run times will look wrong`,
    fix: 'Synchronise the clocks (Linux: sudo timedatectl set-ntp true; macOS/Windows: set the time automatically) here and on the server.',
  };
}

// ---------------------------------------------------------------------------------------------

async function runChecks(io: Io, values: Record<string, unknown>): Promise<Check[]> {
  const cwd = io.cwd;
  const dataDir = resolve(cwd, io.env.PARLEY_DATA_DIR || '.parley');
  let config: ServerConfig | undefined;
  try {
    config = loadConfig({ ...io.env, PARLEY_DATA_DIR: dataDir });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  const port = Number(io.env.PARLEY_PORT);
  const ctx: Context = {
    io,
    cwd,
    dataDir,
    config,
    host: config?.host ?? (io.env.PARLEY_HOST || '127.0.0.1'),
    port: config?.port ?? (io.env.PARLEY_PORT && Number.isInteger(port) ? port : 4000),
    dataDirOk: false,
  };
  const checks: Check[] = [checkNode(), checkConfig(ctx)];
  checks.push(await checkDataDir(ctx));
  checks.push(await checkCredentials(ctx));
  checks.push(await checkMasterKey(ctx));
  if (config?.databaseUrl) await checkPostgres(ctx, checks);
  else await checkPglite(ctx, checks);
  checks.push(await checkPort(ctx));
  checks.push(checkSandbox(ctx));
  await checkAgent(ctx, checks);
  const target = await checkTarget(ctx, values);
  checks.push(target.check);
  checks.push(await checkClock(ctx, target.server ?? ctx.localServer));
  return checks;
}

const SYMBOLS: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/** Runs every check and prints them (or JSON); the exit code is 1 when one failed. */
export async function runDoctor(values: Record<string, unknown>, io: Io): Promise<number> {
  const checks = await runChecks(io, values);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  if (values.json) {
    line(
      io,
      JSON.stringify(
        checks.map((c) => ({
          name: c.name,
          status: c.status,
          detail: c.detail,
          fix: c.fix ?? null,
        })),
        null,
        2,
      ),
    );
    return failed > 0 ? 1 : 0;
  }
  const p = painter(io);
  const paint = { ok: p.green, warn: p.yellow, fail: p.red, skip: p.dim };
  // Long names (model checks) overflow the column rather than widen it for every line.
  const width = Math.min(12, Math.max(...checks.map((c) => c.name.length)));
  for (const c of checks) {
    const [first, ...rest] = c.detail.split('\n');
    const text = c.status === 'skip' ? p.dim(first ?? '') : first;
    line(io, `${paint[c.status](SYMBOLS[c.status])} ${p.bold(c.name.padEnd(width))}  ${text}`);
    for (const more of rest) line(io, `  ${' '.repeat(width)}  ${more}`);
    if (c.fix && c.status !== 'ok')
      line(io, `  ${' '.repeat(width)}  ${paint[c.status]('→')} ${c.fix}`);
  }
  line(io);
  line(
    io,
    failed + warned === 0
      ? p.green('Everything looks good.')
      : [
          failed ? p.red(`${plural(failed, 'problem')} to fix`) : '',
          warned ? p.yellow(plural(warned, 'warning')) : '',
        ]
          .filter(Boolean)
          .join(', ')
          .concat('.'),
  );
  return failed > 0 ? 1 : 0;
}

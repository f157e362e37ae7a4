import { existsSync } from 'node:fs';
import {
  type DatabaseDiagnosis,
  diagnoseEmbeddedDatabase,
  embeddedDatabaseDir,
  type ProbeResult,
  probePostgres,
  redactUrl,
} from '@parley/server';
import { withProgress } from '../../progress.ts';
import { shellQuote } from '../../shell-quote.ts';
import { type Check, type Context, plural, REQUEST_TIMEOUT_MS, withUser } from './shared.ts';

/*
 * `parley doctor`, one area: the database: PostgreSQL (probed read-only) or the embedded PGlite
 * (opened only when no server holds it), through the server's public functions.
 */

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

export async function checkPostgres(ctx: Context, checks: Check[]) {
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
  checks.push({
    name: 'cluster',
    status: 'ok',
    detail: ctx.config?.redisUrl
      ? 'several instances may share this database; their bus is Redis, with PostgreSQL as its fallback (docs/scaling.md)'
      : 'several instances may share this database; their bus is PostgreSQL LISTEN/NOTIFY (docs/scaling.md)',
  });
}

export async function checkPglite(ctx: Context, checks: Check[]) {
  const pgdata = embeddedDatabaseDir(ctx.dataDir);
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
  checks.push({
    name: 'cluster',
    status: 'ok',
    detail:
      'one process: PGlite is embedded, and one server process owns its data directory; several instances need PostgreSQL (docs/scaling.md)',
  });
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

import { existsSync } from 'node:fs';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ConfigError,
  CredentialsSchema,
  credentialsPath,
  loadConfig,
  redactUrl,
  sandboxReport,
} from '@parley/server';
import { shellQuote } from '../../shell-quote.ts';
import { alive, type Check, type Context, mode, plural } from './shared.ts';

/*
 * `parley doctor`, one area: configuration, the sandbox, the data directory, the credentials file
 * and the master key.
 */

/** Which sandbox community plugins and stdio MCP programs get here (PARLEY_SANDBOX). */
export function checkSandbox(ctx: Context): Check {
  const report = sandboxReport(ctx.config?.sandbox ?? 'os');
  const status = report.holds === 'os' ? 'ok' : 'warn';
  return {
    name: 'sandbox',
    status,
    detail: report.detail,
    ...(report.fix ? { fix: report.fix } : {}),
  };
}

export function checkConfig(ctx: Context): Check {
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

export async function checkDataDir(ctx: Context): Promise<Check> {
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

export async function checkCredentials(ctx: Context): Promise<Check> {
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

export async function checkMasterKey(ctx: Context): Promise<Check> {
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

import { resolve } from 'node:path';
import { ConfigError, loadConfig, type ServerConfig } from '@parley/server';
import { type Io, line, painter } from '../../io.ts';
import { checkAgent } from './agent.ts';
import { checkPglite, checkPostgres } from './database.ts';
import { checkNode } from './node.ts';
import { checkPort } from './port.ts';
import {
  checkConfig,
  checkCredentials,
  checkDataDir,
  checkMasterKey,
  checkSandbox,
} from './setup.ts';
import { type Check, type CheckStatus, type Context, plural } from './shared.ts';
import { checkClock, checkTarget } from './target.ts';

/*
 * `parley doctor`: every check says ✓ (fine), ! (works, but look at it) or ✗ (will fail),
 * and every ✗ says exactly what to run or change. Nothing is modified: the data directory
 * is inspected, not created; the embedded database is opened only when no server holds it
 * and it exists already; PostgreSQL is probed read-only; provider keys are checked with one
 * cheap GET each.
 */

// One file per area (node, setup, database, port, agent, target); this one runs them in order.

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

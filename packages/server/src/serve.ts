import { existsSync } from 'node:fs';
import { memoryLimit } from '@parley/sandbox/cgroup';
import { embeddedDatabaseDir, isStoreError } from '@parley/store';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { embeddedDatabaseMemoryWarning } from './memory-limit.ts';
import { type RunningServer, startServer } from './start.ts';
import { surviveUnhandledRejections } from './survive.ts';

/** What a stop may take beyond the grace period: storing the runs' ends, closing the database. */
const STOP_MARGIN_MS = 10_000;

/**
 * SIGUSR1 opens Node's inspector (and process._debugProcess sends it): code execution in the
 * server for anything that can signal it. npm start passes --disable-sigusr1; `parley start`
 * and any other launch get the same by this listener, which replaces Node's handler.
 */
function refuseDebugSignal(log: () => { warn(message: string): void } | undefined) {
  process.on('SIGUSR1', () =>
    log()?.warn('ignored SIGUSR1: this server never opens its inspector'),
  );
}

function fail(code: number, message: string): never {
  process.stderr.write(`parley: ${message}\n`);
  process.exit(code);
}

function explainStartFailure(error: unknown, config: ServerConfig): never {
  if (isStoreError(error)) fail(1, `${error.message} (${error.code})`);
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    fail(
      1,
      `port ${config.port} on ${config.host} is in use: stop the other server or set PARLEY_PORT.`,
    );
  if (e.code === 'EACCES')
    fail(
      1,
      `not allowed to listen on ${config.host}:${config.port}: pick a port above 1024 (PARLEY_PORT).`,
    );
  fail(1, `could not start: ${e.message}`);
}

function announce(server: RunningServer, config: ServerConfig) {
  const mode = config.multiUser ? 'multi-user' : 'single-user';
  const database = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`;
  const out = process.stdout;
  out.write(`Parley listening on ${server.url} (${mode}, ${database})\n`);
  if (server.credentials) {
    out.write(
      `Workspace ${server.credentials.workspaceId}; API token in ${config.dataDir}/credentials\n`,
    );
  }
  if (server.newToken) {
    out.write(
      `\nYour API token (shown once, also saved to ${config.dataDir}/credentials, mode 0600):\n  ${server.newToken}\n\n`,
    );
  }
  if (server.store.isolation.level === 'guarded' && config.multiUser)
    out.write(`warning: ${server.store.isolation.reason}\n`);
}

/**
 * `npm start` and `parley start`: the server with the embedded database by default, until
 * SIGINT/SIGTERM. Exit codes: 0 after a clean stop, 1 when it cannot start (database, data
 * directory, port), 2 for bad configuration. Every failure is one line that says what to
 * do, never a stack trace.
 */
export async function serve(env: Record<string, string | undefined> = process.env): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) fail(2, error.message);
    throw error;
  }
  const pretty = process.stdout.isTTY && config.logLevel !== 'silent';
  let server: RunningServer;
  let started = false;
  surviveUnhandledRejections(() => (started ? server.app.log : undefined));
  refuseDebugSignal(() => (started ? server.app.log : undefined));
  if (!config.databaseUrl) {
    const first = !existsSync(embeddedDatabaseDir(config.dataDir));
    const warning = embeddedDatabaseMemoryWarning(memoryLimit(), first);
    if (warning) process.stderr.write(`parley: warning: ${warning}\n`);
  }
  try {
    server = await startServer(config, {
      logger: {
        level: pretty ? 'warn' : config.logLevel,
        redact: ['req.headers.authorization', 'req.headers.cookie'],
      },
    });
  } catch (error) {
    explainStartFailure(error, config);
  }
  started = true;
  announce(server, config);
  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      signals += 1;
      if (signals > 1) fail(1, 'stopped without waiting for runs to finish.');
      process.stdout.write(
        `Stopping: letting runs finish (up to ${config.shutdownGraceMs / 1000}s)…\n`,
      );
      // The grace period bounds the whole stop: if closing hangs past it (a plugin that ignores
      // its abort, a database that does not answer), the process exits anyway.
      setTimeout(
        () => fail(1, 'stopped without finishing: closing took longer than the grace period.'),
        config.shutdownGraceMs + STOP_MARGIN_MS,
      ).unref();
      server.stop().then(
        () => process.exit(0),
        (error) => fail(1, `stopped with an error: ${(error as Error).message}`),
      );
    });
  }
}

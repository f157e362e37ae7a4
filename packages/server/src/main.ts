#!/usr/bin/env node
import { isStoreError } from '@parley/store';
import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './start.ts';

/*
 * `npm start` / `parley start`: the server with the embedded database by default. Exit codes:
 * 0 after a clean stop, 1 when it cannot start (database, data directory), 2 for bad
 * configuration. Every failure is one line that says what to do, never a stack trace.
 */

function fail(code: number, message: string): never {
  process.stderr.write(`parley: ${message}\n`);
  process.exit(code);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(2, error.message);
  throw error;
}

const pretty = process.stdout.isTTY && config.logLevel !== 'silent';
let server: Awaited<ReturnType<typeof startServer>>;
try {
  server = await startServer(config, {
    logger: {
      level: pretty ? 'warn' : config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  });
} catch (error) {
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

const mode = config.multiUser ? 'multi-user' : 'single-user';
const database = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`;
process.stdout.write(`Parley listening on ${server.url} (${mode}, ${database})\n`);
if (server.credentials) {
  process.stdout.write(
    `Workspace ${server.credentials.workspaceId}; API token in ${config.dataDir}/credentials\n`,
  );
}
if (server.newToken) {
  process.stdout.write(
    `\nYour API token (shown once, also saved to ${config.dataDir}/credentials, mode 0600):\n  ${server.newToken}\n\n`,
  );
}
if (server.store.isolation.level === 'guarded' && config.multiUser) {
  process.stdout.write(`warning: ${server.store.isolation.reason}\n`);
}

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) fail(1, 'stopped without waiting for runs to finish.');
    process.stdout.write(
      `Stopping: letting runs finish (up to ${config.shutdownGraceMs / 1000}s)…\n`,
    );
    server.stop().then(
      () => process.exit(0),
      (error) => fail(1, `stopped with an error: ${(error as Error).message}`),
    );
  });
}

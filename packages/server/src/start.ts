import { openStore, type Store } from '@parley/store';
import type { buildApp, ParleyApp } from './app.ts';
import { bootstrapSingleUser, type Credentials } from './bootstrap.ts';
import type { ServerConfig } from './config.ts';
import { storeOptionsFor } from './database.ts';

export interface RunningServer {
  app: ParleyApp;
  store: Store;
  /** The base URL it listens on (with the real port when 0 was asked for). */
  url: string;
  /** Single-user mode: the owner's credentials, and the token if it was just created. */
  credentials?: Credentials;
  newToken?: string;
  /** Lets runs finish (up to the grace period), flushes logs, closes the database. */
  stop(): Promise<void>;
}

function urlOf(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * Opens the database (PGlite in the data directory, or PostgreSQL), applies migrations,
 * bootstraps single-user mode, builds the app and listens.
 */
export async function startServer(
  config: ServerConfig,
  options: { logger?: Parameters<typeof buildApp>[0]['logger'] } = {},
): Promise<RunningServer> {
  // The database opens (PGlite: a worker thread starting the embedded PostgreSQL, then the
  // migration check and the owner's token) while this thread loads the HTTP app's modules:
  // at start neither waits for the other (docs/performance.md).
  const opening = openStore(storeOptionsFor(config));
  const appModule = import('./app.ts');
  appModule.catch(() => {}); // a failed open is the error to report
  const store = await opening;
  try {
    await store.migrate();
    let boot = config.multiUser
      ? undefined
      : await bootstrapSingleUser(store, {
          dataDir: config.dataDir,
          serverUrl: urlOf(config.host, config.port),
        });
    const { buildApp } = await appModule;
    const app = await buildApp({
      config,
      store,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(boot ? { localOwnerId: boot.ownerId } : {}),
    });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = urlOf(config.host, port);
    if (boot && port !== config.port) {
      // Port 0: record the real address for the CLI (the token stays the one just printed).
      const first = boot;
      boot = await bootstrapSingleUser(store, { dataDir: config.dataDir, serverUrl: url });
      if (first.newToken) boot = { ...boot, newToken: first.newToken };
    }
    let stopping: Promise<void> | undefined;
    return {
      app,
      store,
      url,
      ...(boot ? { credentials: boot.credentials } : {}),
      ...(boot?.newToken ? { newToken: boot.newToken } : {}),
      stop() {
        stopping ??= (async () => {
          await app.close();
          await store.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

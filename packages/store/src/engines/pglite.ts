import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PGlite, QueryOptions } from '@electric-sql/pglite';
import type { PgDialect } from 'drizzle-orm/pg-core';
import { autoAnalyze } from '../auto-analyze.ts';
import { embeddedDatabaseDir, lockDataDir, prepareDataDir } from '../data-dir.ts';
import type { Db, Tx } from '../db.ts';
import { StoreError } from '../errors.ts';
import { APP_ROLE } from '../migrate.ts';
import { PgliteThreadClient, type PgliteThreadTransaction } from '../pglite-thread/client.ts';
import type { Engine } from './engine.ts';

/* PGlite, in a directory or in memory, in a worker thread; one superuser session, run as the runtime role. */

export async function openPglite(dataDir: string | undefined): Promise<Engine> {
  let release = async () => {};
  let pgdata: string | undefined;
  if (dataDir !== undefined) {
    prepareDataDir(dataDir);
    release = lockDataDir(dataDir);
    pgdata = embeddedDatabaseDir(dataDir);
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
  // Drizzle's driver loads on this thread while the worker starts PGlite on its own.
  const driver = import('drizzle-orm/pglite');
  driver.catch(() => {}); // awaited below, unless the worker fails first
  let client: PgliteThreadClient;
  try {
    client = await openWorker();
  } catch (error) {
    await release();
    throw error;
  }
  const { drizzle: drizzlePglite, PgliteSession, PgliteTransaction } = await driver;
  /** Drizzle and the store call whichever worker is current (afterMigrate may replace it). */
  const current = {
    query<T>(sql: string, params?: unknown[], options?: QueryOptions) {
      return client.query<T>(sql, params, options);
    },
    transaction<T>(callback: (tx: PgliteThreadTransaction) => Promise<T>, setup?: string) {
      return client.transaction(callback, setup);
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
  // The cast: Drizzle's type asks for the PGlite class, but its driver calls only query()
  // and transaction() (whose tx gets query()), which the thread client provides.
  const db = drizzlePglite(current as unknown as PGlite);
  const { dialect } = db as unknown as { dialect: PgDialect };
  return {
    kind: 'pglite',
    db: db as unknown as Db,
    // Drizzle's session and transaction classes over the worker's transaction, which takes the
    // setup in its begin message: one message to the worker instead of two. Its statements
    // start at the end of this turn, while the worker opens it: what the caller submits in the
    // same turn (a burst's writes, gathered by the run path's batcher) joins this transaction
    // instead of waiting for the next one on PGlite's one connection.
    transaction: (setup, fn) =>
      current.transaction(async (threadTx) => {
        await nextTurn();
        const session = new PgliteSession(threadTx as unknown as PGlite, dialect, undefined);
        return fn(new PgliteTransaction(dialect, session, undefined) as unknown as Tx);
      }, setup),
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

import type { Socket } from 'node:net';
import type { PgDialect } from 'drizzle-orm/pg-core';
import { redactUrl, UNREACHABLE_ERRNOS } from '../connection.ts';
import type { Db, Tx } from '../db.ts';
import { SetupFailed, StoreError } from '../errors.ts';
import type { StoreCommonOptions } from '../store.ts';
import type { Engine } from './engine.ts';

/* PostgreSQL: a pool for the runtime role, a separate client for each migration. */

function connectError(error: unknown, url: string): StoreError {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  if (UNREACHABLE_ERRNOS.has(code) || ['3D000', '28P01', '28000', '57P03'].includes(code)) {
    const hint =
      code === '3D000'
        ? 'the database does not exist: create it first'
        : code.startsWith('28')
          ? 'the server refused the user or password'
          : 'is PostgreSQL running there? (locally: pg_ctlcluster 15 main start)';
    return new StoreError(
      'store.unreachable',
      `Cannot connect to PostgreSQL at ${redactUrl(url)} (${code}): ${hint}.`,
      {
        ...(code.length === 5 ? { pgCode: code } : {}),
      },
    );
  }
  return new StoreError(
    'store.unreachable',
    `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${e.message ?? code}.`,
  );
}

/**
 * Holds a pooled client's socket writes until the end of the current turn (the microtask
 * queue drained). pg writes each query as soon as it is submitted, one system call each
 * (it corks only around one query's messages); a transaction's BEGIN with its setup and the
 * statements its callback submits before first waiting for an answer then leave in one write,
 * and PostgreSQL's backend wakes once for them.
 */
function holdWritesForThisTurn(client: unknown): void {
  const socket = (client as { connection?: { stream?: Partial<Socket> } }).connection?.stream;
  if (!socket?.cork || !socket.uncork) return;
  socket.cork();
  // A microtask, then a tick: the tick runs once the whole microtask queue has drained,
  // including the statements the callback submits behind promises resolved in this turn.
  queueMicrotask(() => process.nextTick(() => socket.uncork?.()));
}

export async function openPostgres(
  options: { url: string; migrationUrl?: string; poolSize?: number } & StoreCommonOptions,
): Promise<Engine> {
  // Each engine's driver loads only when it is used: a server on PostgreSQL never needs PGlite's.
  const pg = (await import('pg')).default;
  const {
    drizzle: drizzlePg,
    NodePgSession,
    NodePgTransaction,
  } = await import('drizzle-orm/node-postgres');
  const onError =
    options.onBackgroundError ??
    ((e: Error) =>
      console.warn(
        `[parley store] database connection error: ${(e as { code?: string }).code ?? e.name}`,
      ));
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: 'parley',
    // Queries queued on a client go out without waiting for earlier answers: see transaction().
    pipeline: true,
  });
  // Without a listener a client killed by the server (restart, failover,
  // pg_terminate_backend, DROP DATABASE … FORCE) raises an unhandled 'error' and takes the
  // process down. The pool listens to idle clients only; a client checked out for a
  // transaction, between two of its queries, had no listener (issue #30: 6 crashes in 10).
  // Every client gets one for its whole life: the error is reported here, the client is no
  // longer queryable, so the transaction's next query fails and its caller sees the error,
  // and the pool drops the client on release and connects a new one when next asked.
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectError(error, options.url);
  }
  const migrationUrl = options.migrationUrl ?? options.url;
  const db = drizzlePg(pool);
  // Drizzle's transaction() sends BEGIN alone; its own session and transaction classes on a
  // pooled client let BEGIN and the setup go as one simple-protocol query (several statements).
  const { dialect } = db as unknown as { dialect: PgDialect };
  return {
    kind: 'postgres',
    db: db as unknown as Db,
    async transaction(setup, fn) {
      const client = await pool.connect();
      holdWritesForThisTurn(client);
      try {
        const tx = new NodePgTransaction(
          dialect,
          new NodePgSession(client, dialect, undefined),
          undefined,
        );
        // Pipelined (the pool's clients send without waiting for answers): the transaction's
        // first statement follows BEGIN and the setup on the wire, one round trip fewer. If the
        // setup fails the transaction is aborted, so nothing after it runs.
        const began = client.query(`begin; ${setup}`).then(
          () => undefined,
          (error: unknown) => new SetupFailed(error),
        );
        try {
          const result = await fn(tx as unknown as Tx);
          const setupFailed = await began;
          if (setupFailed) throw setupFailed;
          await client.query('commit');
          return result;
        } catch (error) {
          await client.query('rollback').catch(() => {});
          // The error worth reporting is the one that stopped the work (a failed setup makes
          // every later statement fail), not a failed ROLLBACK.
          throw (await began) ?? error;
        }
      } finally {
        client.release();
      }
    },
    async migrationTransaction(fn) {
      const client = new pg.Client({
        connectionString: migrationUrl,
        application_name: 'parley-migrate',
      });
      client.on('error', onError);
      try {
        await client.connect();
      } catch (error) {
        throw connectError(error, migrationUrl);
      }
      try {
        await client.query('begin');
        const result = await fn({
          query: async (text, params) => (await client.query(text, params)).rows,
        });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        await client.end().catch(() => {});
      }
    },
    async afterMigrate() {},
    // Autovacuum keeps PostgreSQL's statistics fresh (and the runtime role may not ANALYZE).
    async afterWrites() {},
    adminQuery: async (text, params) => (await pool.query(text, params)).rows,
    close: () => pool.end(),
  };
}

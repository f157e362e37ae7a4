/*
 * The PGlite worker: owns the one PGlite instance and answers the main thread's requests
 * (protocol.ts). Postgres-in-WebAssembly runs synchronously, so here it blocks only this
 * thread's event loop, not the server's.
 *
 * Loaded by Node directly (under Vitest too, where Vite never sees it): plain erasable
 * TypeScript, importing packages and types only.
 */
import { parentPort } from 'node:worker_threads';
import type { ParserOptions, PGlite, QueryOptions, Transaction } from '@electric-sql/pglite';
import type { Request, Response, WireError, WireQueryOptions } from './protocol.ts';

if (!parentPort) throw new Error('pglite-thread/worker.ts runs only as a worker thread');
const port = parentPort;

let db: PGlite | undefined;

/** An open transaction. */
interface OpenTransaction {
  tx: Transaction;
  /** Lets PGlite's transaction callback return: commit, or roll back first. */
  finish(commit: boolean, endId: number): void;
}
/**
 * Transactions by the id of the request that began them, from the begin on: one still waiting
 * for PGlite (its lock, its setup) resolves when open. The client sends statements without
 * waiting for the begin's answer, and they wait here instead (its error, if it failed).
 */
const transactions = new Map<number, Promise<OpenTransaction>>();

function transaction(id: number): Promise<OpenTransaction> {
  return transactions.get(id) ?? Promise.reject(new Error('Transaction is closed'));
}

const keepRaw = (value: string) => value;
/** Parser tables by their OID list: Drizzle sends the same few lists over and over. */
const parserTables = new Map<string, ParserOptions>();

function queryOptions(wire: WireQueryOptions | undefined): QueryOptions | undefined {
  if (!wire) return undefined;
  const options: QueryOptions = {};
  if (wire.rowMode) options.rowMode = wire.rowMode;
  if (wire.paramTypes) options.paramTypes = wire.paramTypes;
  if (wire.rawTypes?.length) {
    const key = wire.rawTypes.join(',');
    let parsers = parserTables.get(key);
    if (!parsers) {
      parsers = Object.fromEntries(wire.rawTypes.map((oid) => [oid, keepRaw]));
      parserTables.set(key, parsers);
    }
    options.parsers = parsers;
  }
  return options;
}

function isCloneable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'function';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every own enumerable property that survives structured clone (PGlite's DatabaseError has
 * code, detail, constraint, table, schema, column, severity, … and the failed query and
 * params; its queryOptions hold parser functions and stay behind).
 */
function toWireError(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: String(error), stack: undefined, props: {} };
  }
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (isCloneable(value)) props[key] = value;
  }
  const wire: WireError = { name: error.name, message: error.message, stack: error.stack, props };
  if (error.cause !== undefined && depth < 3) wire.cause = toWireError(error.cause, depth + 1);
  return wire;
}

function reply(id: number, value: unknown): void {
  try {
    port.postMessage({ id, ok: true, value } satisfies Response);
  } catch (error) {
    // A result that cannot be cloned fails its own request, not the worker.
    fail(id, error);
  }
}

function fail(id: number, error: unknown): void {
  port.postMessage({ id, ok: false, error: toWireError(error) } satisfies Response);
}

function opened(): PGlite {
  if (!db) throw new Error('The embedded database is not open');
  return db;
}

/** The transaction a query names, or the database itself. */
async function target(tx: number | undefined): Promise<PGlite | Transaction> {
  return tx === undefined ? opened() : (await transaction(tx)).tx;
}

/**
 * PGlite's postgresql.conf (it rewrites the file at every start). Postgres's default 128 MB
 * of shared buffers lives in WebAssembly memory, which never shrinks; an embedded
 * database of a few agents' data is served as fast from 16 MB, the rest of its pages coming
 * from the OS file cache. Measured: the process's RSS after start-up and a few hundred
 * writes, 329 → 194 MB (docs/performance.md).
 */
const POSTGRESQL_CONF = 'shared_buffers = 16MB';

async function open(dataDir: string | undefined): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  db = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    extensions: { vector },
    postgresqlconf: POSTGRESQL_CONF,
  });
}

/**
 * Runs PGlite's own transaction(), whose callback waits for the main thread's verdict: PGlite's
 * mutexes then serialize every other query and transaction exactly as on one thread.
 */
function begin(id: number, setup: string | undefined): void {
  let began = false;
  let endId: number | undefined;
  const opening = Promise.withResolvers<OpenTransaction>();
  // Its failure is answered to the begin request; statements waiting for it fail with it.
  opening.promise.catch(() => {});
  transactions.set(id, opening.promise);
  opened()
    .transaction(async (tx) => {
      // A failed setup throws here: PGlite rolls back, and the begin request learns why.
      if (setup !== undefined) await tx.exec(setup);
      const verdict = Promise.withResolvers<boolean>();
      opening.resolve({
        tx,
        finish(commit, end) {
          endId = end;
          verdict.resolve(commit);
        },
      });
      began = true;
      reply(id, id);
      try {
        if (!(await verdict.promise)) await tx.rollback();
      } finally {
        transactions.delete(id);
      }
    })
    .then(
      () => {
        if (endId !== undefined) reply(endId, undefined);
      },
      (error: unknown) => {
        // BEGIN failed (the begin request learns it), or COMMIT/ROLLBACK did (the end request).
        if (!began) {
          transactions.delete(id);
          opening.reject(error);
          fail(id, error);
        } else if (endId !== undefined) fail(endId, error);
      },
    );
}

/** handle()'s answer when the reply is sent later (begin, end). */
const NO_REPLY = Symbol('no reply');

async function handle(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'open':
      return open(request.dataDir);
    case 'query':
      return (await target(request.tx)).query(
        request.sql,
        request.params,
        queryOptions(request.options),
      );
    case 'exec':
      return (await target(request.tx)).exec(request.sql, queryOptions(request.options));
    case 'end': {
      const open = await transaction(request.tx);
      // The answer comes from begin()'s settled transaction.
      open.finish(request.commit, request.id);
      return NO_REPLY;
    }
    case 'close':
      await db?.close();
      db = undefined;
      return undefined;
    case 'begin':
      begin(request.id, request.setup);
      return NO_REPLY;
  }
}

port.on('message', (request: Request) => {
  handle(request).then(
    (value) => {
      if (value !== NO_REPLY) reply(request.id, value);
    },
    (error: unknown) => fail(request.id, error),
  );
});

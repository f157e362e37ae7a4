/*
 * The main thread's side of the PGlite worker: the part of PGlite's interface that Drizzle
 * and store.ts use (query, exec, transaction, close), each call a message to worker.ts.
 * Queries still run one at a time, serialized by PGlite's own mutexes in the worker; only the
 * CPU they burn has moved off the server's event loop.
 */
import { Worker } from 'node:worker_threads';
import type { ParserOptions, QueryOptions, Results } from '@electric-sql/pglite';
import { SetupFailed, StoreError } from '../errors.ts';
import type { Request, Response, WireError, WireQueryOptions } from './protocol.ts';

/** What a transaction callback gets: PGlite's Transaction as far as the store uses it. */
export interface PgliteThreadTransaction {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string, options?: QueryOptions): Promise<Results[]>;
  /** Rolls back now; the transaction is closed afterwards. */
  rollback(): Promise<void>;
  readonly closed: boolean;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The caller's options, put back on PGlite's error (its parsers could not cross). */
  options: QueryOptions | undefined;
}

/** Parsers become OID lists once per options object (Drizzle keeps one per prepared query). */
const rawTypesOf = new WeakMap<ParserOptions, number[]>();
const PROBE = '\u0000parley-parser-probe';

function wireOptions(options: QueryOptions | undefined): WireQueryOptions | undefined {
  if (!options) return undefined;
  if (options.serializers || options.blob || options.onNotice) {
    throw new TypeError('PGlite worker: serializers, blob and onNotice cannot cross threads');
  }
  const wire: WireQueryOptions = {};
  if (options.rowMode) wire.rowMode = options.rowMode;
  if (options.paramTypes) wire.paramTypes = options.paramTypes;
  if (options.parsers) {
    let rawTypes = rawTypesOf.get(options.parsers);
    if (!rawTypes) {
      rawTypes = [];
      for (const [oid, parser] of Object.entries(options.parsers)) {
        // The worker can only keep a type's text as it is; anything else would change results.
        if (parser(PROBE) !== PROBE) {
          throw new TypeError(`PGlite worker: the parser for type ${oid} is not the identity`);
        }
        rawTypes.push(Number(oid));
      }
      rawTypesOf.set(options.parsers, rawTypes);
    }
    wire.rawTypes = rawTypes;
  }
  return wire;
}

/** The worker's error as an Error with the same name, message and properties. */
function reviveError(wire: WireError, options: QueryOptions | undefined): Error {
  const error = new Error(
    wire.message,
    wire.cause ? { cause: reviveError(wire.cause, undefined) } : undefined,
  );
  if (!Object.hasOwn(wire.props, 'name') && wire.name !== 'Error') {
    // Like a subclass's prototype name: not enumerable.
    Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
  }
  Object.assign(error, wire.props);
  if (options && 'query' in wire.props) Object.assign(error, { queryOptions: options });
  if (wire.stack) error.stack = wire.stack;
  return error;
}

export class PgliteThreadClient {
  /** The thread PGlite runs in (tests end it to see how a dead worker fails). */
  readonly worker: Worker;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Why every call fails from now on: the worker died, or close() ran. */
  #failure: StoreError | undefined;
  #closing: Promise<void> | undefined;

  private constructor() {
    this.worker = new Worker(new URL('./worker-entry.js', import.meta.url), {
      name: 'parley-pglite',
      // Nothing of the process's flags: the worker needs none (erasable TypeScript and a
      // package), and Node refuses to start a worker given the V8 ones (`npm start` passes
      // --max-semi-space-size) or --input-type (`node --input-type=module -e …`).
      execArgv: [],
      // The worker's JavaScript only passes messages; V8 would otherwise size its young
      // generation for the machine (up to 128 MB on a 24 GB host), most of it idle garbage.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.worker.on('message', (response: Response) => this.#answer(response));
    this.worker.on('error', (error) =>
      this.#die(`its worker failed: ${error.message}`, { cause: error }),
    );
    this.worker.on('messageerror', (error) => {
      // An answer that cannot be read leaves its caller waiting forever: give up on the worker.
      this.#die(`an answer from its worker could not be read: ${error.message}`, { cause: error });
      void this.worker.terminate();
    });
    this.worker.on('exit', (code) => this.#die(`its worker stopped (exit code ${code})`));
  }

  /** Starts the worker and opens PGlite there (in `dataDir`, or in memory). */
  static async open(dataDir: string | undefined): Promise<PgliteThreadClient> {
    const client = new PgliteThreadClient();
    try {
      await client.#send({ id: client.#nextId++, op: 'open', dataDir }, undefined);
    } catch (error) {
      client.#failure ??= new StoreError('store.closed', 'The embedded database failed to open.');
      await client.worker.terminate();
      throw error;
    }
    return client;
  }

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.#statement('query', undefined, sql, params, options) as Promise<Results<T>>;
  }

  exec(sql: string, options?: QueryOptions): Promise<Results[]> {
    return this.#statement('exec', undefined, sql, undefined, options) as Promise<Results[]>;
  }

  /**
   * Runs `callback` in one transaction: commits when it resolves, rolls back when it throws
   * (and rethrows its error). Other queries wait meanwhile, as in PGlite itself. `setup`
   * (statements without parameters) runs first; if it fails, the transaction is rolled back
   * and SetupFailed carries its error. Pipelined: the callback's statements are sent without
   * waiting for the begin's answer (the worker holds them until the transaction is open), so
   * a transaction waits for the worker twice, not three times: on a busy event loop each wait
   * is a turn.
   */
  async transaction<T>(
    callback: (tx: PgliteThreadTransaction) => Promise<T>,
    setup?: string,
  ): Promise<T> {
    // The begin request's id names the transaction: known before the worker answers.
    const txId = this.#nextId++;
    const began = this.#send({ id: txId, op: 'begin', setup }, undefined).then(
      () => undefined,
      (error: unknown) => (setup === undefined ? error : new SetupFailed(error)),
    );
    let closed = false;
    const end = (commit: boolean) => {
      closed = true;
      return this.#send({ id: this.#nextId++, op: 'end', tx: txId, commit }, undefined);
    };
    const assertOpen = () => {
      if (closed) throw new Error('Transaction is closed');
    };
    const tx: PgliteThreadTransaction = {
      query: async <R>(sql: string, params?: unknown[], options?: QueryOptions) => {
        assertOpen();
        return (await this.#statement('query', txId, sql, params, options)) as Results<R>;
      },
      exec: async (sql, options) => {
        assertOpen();
        return (await this.#statement('exec', txId, sql, undefined, options)) as Results[];
      },
      rollback: async () => {
        assertOpen();
        await end(false);
      },
      get closed() {
        return closed;
      },
    };
    let result: T;
    try {
      result = await callback(tx);
    } catch (error) {
      // The callback's error is the one worth reporting, not a failed ROLLBACK after it; a
      // failed begin (every statement after it fails too) is the one before both.
      if (!closed) await end(false).catch(() => {});
      throw (await began) ?? error;
    }
    const failed = await began;
    if (failed) throw failed;
    if (!closed) await end(true);
    return result;
  }

  /** Closes PGlite in the worker, then ends the worker. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (!this.#failure) await this.#send({ id: this.#nextId++, op: 'close' }, undefined);
      } finally {
        this.#failure ??= new StoreError('store.closed', 'The embedded database has been closed.');
        await this.worker.terminate();
      }
    })();
    return this.#closing;
  }

  /** A query (one statement, parameters) or an exec (statements, none), in `tx` or not. */
  #statement(
    op: 'query' | 'exec',
    tx: number | undefined,
    sql: string,
    params: unknown[] | undefined,
    options: QueryOptions | undefined,
  ): Promise<unknown> {
    try {
      const wire = wireOptions(options);
      const id = this.#nextId++;
      return this.#send(
        op === 'query'
          ? { id, op, tx, sql, params, options: wire }
          : { id, op, tx, sql, options: wire },
        options,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #send(request: Request, options: QueryOptions | undefined): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    // Throws DataCloneError for a parameter that cannot cross (a function, a class instance's
    // private state); the caller's promise rejects with it.
    this.worker.postMessage(request);
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    // Only a caller waiting for an answer keeps the process alive; an idle store never does.
    if (this.#pending.size === 0) this.worker.ref();
    this.#pending.set(request.id, { resolve, reject, options });
    return promise;
  }

  #answer(response: Response): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#settled(response.id);
    if (response.ok) pending.resolve(response.value);
    else pending.reject(reviveError(response.error, pending.options));
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.worker.unref();
  }

  #die(why: string, options: { cause?: unknown } = {}): void {
    if (this.#failure) return;
    this.#failure = new StoreError(
      'store.unreachable',
      `The embedded database is gone: ${why}.`,
      options,
    );
    for (const [id, pending] of this.#pending) {
      this.#settled(id);
      pending.reject(this.#failure);
    }
  }
}

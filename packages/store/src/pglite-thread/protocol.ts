/*
 * The messages between the main thread (client.ts) and the PGlite worker (worker.ts). Types
 * only: the worker is loaded by Node itself (also under Vitest), so everything it imports
 * must be erasable TypeScript or a package.
 */

/** What both sides know of a query's options: functions cannot cross threads. */
export interface WireQueryOptions {
  rowMode?: 'array' | 'object';
  /** Type OIDs whose values stay raw text (Drizzle's parsers are all the identity). */
  rawTypes?: number[];
  paramTypes?: number[];
}

export type Request =
  | { id: number; op: 'open'; dataDir: string | undefined }
  | {
      id: number;
      op: 'query';
      /** The begin request's id when the query belongs to an open transaction. */
      tx: number | undefined;
      sql: string;
      params: unknown[] | undefined;
      options: WireQueryOptions | undefined;
    }
  | {
      id: number;
      op: 'exec';
      tx: number | undefined;
      sql: string;
      options: WireQueryOptions | undefined;
    }
  /**
   * Opens a transaction; its id (this request's id) names it in later messages. `setup`
   * (statements without parameters) runs first in it, answered with the begin.
   */
  | { id: number; op: 'begin'; setup: string | undefined }
  /** Ends transaction `tx`: the answer is PGlite's COMMIT (or ROLLBACK) outcome. */
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

/** An error as it crosses: every own enumerable property that can be cloned. */
export interface WireError {
  name: string;
  message: string;
  stack: string | undefined;
  props: Record<string, unknown>;
  cause?: WireError;
}

export type Response =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError };

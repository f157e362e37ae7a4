import type { Db, Tx } from '../db.ts';
import type { MigrateResult, SqlSession } from '../migrate.ts';
import type { StatisticsTable } from '../scope.ts';

/* What openStore() needs of a database engine, PostgreSQL (postgres.ts) or PGlite (pglite.ts). */

export interface Engine {
  kind: 'pglite' | 'postgres';
  db: Db;
  /**
   * A transaction whose first statement, `setup` (SQL without parameters), goes to the
   * database with its BEGIN, in one round trip; commits when `fn` resolves, rolls back when it
   * throws. A store transaction is a handful of statements: each one saved counts.
   */
  transaction<T>(setup: string, fn: (tx: Tx) => Promise<T>): Promise<T>;
  migrationTransaction<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
  /** Called once migrations are committed, with what they applied. */
  afterMigrate(result: MigrateResult): Promise<void>;
  adminQuery<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** After a committed transaction that wrote rows of tables needing fresh statistics. */
  afterWrites(writes: ReadonlyMap<StatisticsTable, number>): Promise<void>;
  close(): Promise<void>;
}

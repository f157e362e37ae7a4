import type { Db } from '../db.ts';
import type { MigrateResult, SqlSession } from '../migrate.ts';
import type { StatisticsTable } from '../scope.ts';

/* What openStore() needs of a database engine, PostgreSQL (postgres.ts) or PGlite (pglite.ts). */

export interface Engine {
  kind: 'pglite' | 'postgres';
  db: Db;
  migrationTransaction<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
  /** Called once migrations are committed, with what they applied. */
  afterMigrate(result: MigrateResult): Promise<void>;
  adminQuery<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** After a committed transaction that wrote rows of tables needing fresh statistics. */
  afterWrites(writes: ReadonlyMap<StatisticsTable, number>): Promise<void>;
  close(): Promise<void>;
}

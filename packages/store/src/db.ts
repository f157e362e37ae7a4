import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { StoreError } from './errors.ts';

/** Drizzle over either driver; both share the pg-core query builder. */
export type Db = PgDatabase<PgQueryResultHKT>;
/** A transaction (or savepoint) handle. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * One parameter holding a whole column (`uuid[]`, `text[]`, …): bulk statements `unnest` them,
 * so their text does not grow with the rows and no row is built through the query builder.
 */
export function arrayParam(values: readonly unknown[], type: `${string}[]`): SQL {
  return sql`${sql.param(values)}::${sql.raw(type)}`;
}

/** Runs raw SQL and returns its rows; both drivers answer with `{ rows }`. */
export async function queryRows<R>(tx: Db | Tx, query: SQL): Promise<R[]> {
  const result = (await tx.execute(query)) as unknown as { rows: R[] };
  return result.rows;
}

interface DriverError {
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

function driverError(error: unknown): DriverError | undefined {
  for (let e = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return e as DriverError;
    if (e === (e as { cause?: unknown }).cause) break;
  }
  return undefined;
}

/** The SQLSTATE of a database error, looking through Drizzle's wrapper. */
export function sqlState(error: unknown): string | undefined {
  return driverError(error)?.code;
}

/**
 * Turns a database error into a StoreError without its message: Drizzle puts the bound
 * parameters into `message` ("Failed query: … params: …"), and those can be secret values.
 * Only the SQLSTATE, constraint and table names survive.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const db = driverError(error);
  if (!db?.code) {
    // No SQLSTATE (a dropped connection, a driver refusal): Drizzle's wrapper still carries the
    // bound parameters in `message` and `params`, which a logger would write out. Only the
    // cause's error code goes on.
    if (error instanceof Error && 'params' in error && 'query' in error) {
      const code = (error.cause as { code?: unknown } | undefined)?.code;
      const shown = typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
      return new StoreError(
        'store.database_error',
        `The database query failed${shown ? ` (${shown})` : ''}.`,
        shown ? { details: { code: shown } } : {},
      );
    }
    return error;
  }
  const details = { constraint: db.constraint, table: db.table };
  switch (db.code) {
    case '23505':
      return new StoreError(
        'store.conflict',
        `Already exists (${db.constraint ?? 'unique key'}).`,
        {
          pgCode: db.code,
          details,
        },
      );
    case '23503':
      // A missing parent and another workspace's parent look the same on purpose.
      return new StoreError(
        'store.not_found',
        `A referenced row does not exist (${db.constraint ?? 'foreign key'}).`,
        {
          pgCode: db.code,
          details,
        },
      );
    case '22P02':
    case '22P05':
    case '22021':
    case '22001':
    case '23514':
    case '23502':
      return new StoreError(
        'store.invalid_input',
        `The database rejected a value (${db.constraint ?? db.code}).`,
        {
          pgCode: db.code,
          details,
          issues: [
            {
              path: db.column ?? db.constraint ?? '',
              message: `rejected by the database (${db.code})`,
            },
          ],
        },
      );
    case '42P01':
    case '42883':
      return new StoreError(
        'store.not_migrated',
        'The schema is missing objects; run migrate() first.',
        {
          pgCode: db.code,
        },
      );
    default:
      return new StoreError('store.database_error', `Database error ${db.code}.`, {
        pgCode: db.code,
        details,
      });
  }
}

import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { toStoreError } from '../src/db.ts';
import { StoreError } from '../src/errors.ts';

/*
 * Drizzle wraps every failed query in an error whose message and `params` hold the bound
 * parameters (password hashes, message text, token hashes…). The store must never pass that
 * wrapper on, whether or not the database gave a SQLSTATE: a logger would write it out.
 * (Found by the 2026-11 audit: errors without a SQLSTATE, such as a dropped connection, went
 * through unchanged.)
 */

const PARAM = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$c2VjcmV0LWhhc2gtcGFyYW1ldGVy';

function wrapped(cause: unknown) {
  return new DrizzleQueryError(
    'insert into "users" ("email", "password_hash") values ($1, $2)',
    ['ada@example.com', PARAM],
    cause as Error,
  );
}

/** Everything a logger could print of an error: message, own properties, causes. */
function printable(error: unknown): string {
  const seen = new Set<unknown>();
  const walk = (e: unknown): string => {
    if (!e || typeof e !== 'object' || seen.has(e)) return String(e);
    seen.add(e);
    const own = Object.getOwnPropertyNames(e).map((k) => {
      const v = (e as Record<string, unknown>)[k];
      return `${k}=${typeof v === 'object' ? walk(v) : String(v)}`;
    });
    return `${(e as Error).message} ${own.join(' ')} ${walk((e as Error).cause)}`;
  };
  return walk(error);
}

describe('database errors leave the store without their parameters', () => {
  it('a failure without SQLSTATE (a dropped connection) becomes store.database_error', () => {
    const dropped = Object.assign(new Error('Connection terminated unexpectedly'), {
      code: 'ECONNRESET',
    });
    const raw = wrapped(dropped);
    expect(printable(raw)).toContain(PARAM); // what would have been logged
    const error = toStoreError(raw);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store.database_error');
    expect((error as StoreError).message).toBe('The database query failed (ECONNRESET).');
    expect(printable(error)).not.toContain(PARAM);
    expect(printable(error)).not.toContain('ada@example.com');
  });

  it('a failure without any code says only that the query failed', () => {
    const error = toStoreError(wrapped(new Error('Client has encountered a connection error')));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toBe('The database query failed.');
    expect(printable(error)).not.toContain(PARAM);
  });

  it('a failure with a SQLSTATE keeps its mapping, still without parameters', () => {
    const unique = Object.assign(new Error('duplicate key value'), {
      code: '23505',
      constraint: 'users_email_key',
    });
    const error = toStoreError(wrapped(unique)) as StoreError;
    expect(error.code).toBe('store.conflict');
    expect(printable(error)).not.toContain(PARAM);
  });

  it('leaves errors that are not query failures alone', () => {
    const bug = new TypeError('x is not a function');
    expect(toStoreError(bug)).toBe(bug);
  });
});

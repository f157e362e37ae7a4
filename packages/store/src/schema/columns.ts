import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import { customType, pgPolicy, pgRole, timestamp, uuid } from 'drizzle-orm/pg-core';

/*
 * Building blocks shared by every table: the two database roles, the tenant predicate, the
 * row-level security policy every workspace table gets, and the column types Drizzle 0.45
 * lacks (bytea, an unsized pgvector `vector`, tsvector).
 */

/** Owns every schema object; migrations run as it (`SET LOCAL ROLE parley_owner`). */
export const ownerRole = pgRole('parley_owner').existing();
/** The runtime role: DML grants only, every workspace table's policy applies to it. */
export const appRole = pgRole('parley_app').existing();

/**
 * The workspace of the current transaction, or NULL when none is set. NULLIF matters: once a
 * transaction-local setting has been used in a session the placeholder reads as '' for the
 * rest of that session, and `''::uuid` raises instead of failing closed.
 */
export const currentWorkspace = sql`nullif(current_setting('app.workspace_id', true), '')::uuid`;

/** The policy that confines a workspace table to the transaction's workspace, for every command. */
export function workspaceIsolation(table: string, workspaceId: AnyColumn) {
  return pgPolicy(`${table}_workspace_isolation`, {
    as: 'permissive',
    for: 'all',
    to: appRole,
    using: sql`${workspaceId} = ${currentWorkspace}`,
    withCheck: sql`${workspaceId} = ${currentWorkspace}`,
  });
}

/**
 * A narrow policy for the owner role, so that one of the reviewed SECURITY DEFINER functions
 * (see the custom migration) can read across workspaces. FORCE ROW LEVEL SECURITY makes the
 * owner subject to policies; without one it sees nothing.
 */
export function ownerAccess(name: string, command: 'select' | 'insert' | 'update', predicate: SQL) {
  return pgPolicy(name, {
    as: 'permissive',
    for: command,
    to: ownerRole,
    ...(command === 'select' ? { using: predicate } : {}),
    ...(command === 'insert' ? { withCheck: predicate } : {}),
    ...(command === 'update' ? { using: predicate, withCheck: predicate } : {}),
  });
}

export const id = () => uuid('id').primaryKey().defaultRandom();
export const workspaceIdColumn = () => uuid('workspace_id').notNull();
export const createdAt = () =>
  timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
export const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Binary data; node-postgres returns Buffer and PGlite Uint8Array, both become Buffer. */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/**
 * A pgvector `vector` of any size. The size is fixed per agent (memories.embedding_dimensions,
 * checked by a constraint), so one column serves agents with different embedding models.
 */
export const vector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (value) => `[${value.join(',')}]`,
  fromDriver: (value) => JSON.parse(value) as number[],
});

export const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { StoreError } from '../errors.ts';
import type { ScopeContext } from '../scope.ts';

/** Who a row says did it: the scope's actor as `type:id` (or its type), `system` by default. */
export function actorLabel(ctx: ScopeContext): string {
  const actor = ctx.options.actor ?? { type: 'system' as const };
  return actor.id ? `${actor.type}:${actor.id}` : actor.type;
}

export function notFound(what: string, id: string): StoreError {
  return new StoreError('store.not_found', `No ${what} ${id} in this workspace.`, {
    details: { what, id },
  });
}

/** JSON with object keys sorted, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}

/** Drops undefined values, so a patch never overwrites a column with NULL by accident. */
export function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The keyset condition of a newest-first list ordered by (`time` desc, `id` desc): the rows
 * after the row `beforeId` in that order, compared on its stored time (microseconds) and then
 * its id, so rows that share a time are neither repeated nor skipped across pages. An id of
 * another workspace, or of no row, selects nothing.
 */
export function afterRow(
  table: PgTable,
  columns: { time: AnyPgColumn; id: AnyPgColumn; workspaceId: AnyPgColumn },
  workspaceId: string,
  beforeId: string,
): SQL {
  const { time, id } = columns;
  // Inside the subquery the same qualified names mean the cursor's row (the inner FROM).
  return sql`(${time}, ${id}) < (select ${time}, ${id} from ${table}
    where ${id} = ${beforeId} and ${columns.workspaceId} = ${workspaceId})`;
}

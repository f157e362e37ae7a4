/*
 * Store internals for this package's tests: the raw Drizzle handle and the scoped
 * transaction without repositories. Not exported from index.ts; nothing outside
 * packages/store may import it.
 */
import { StoreError } from './errors.ts';
import { type Store, type StoreInternals, storeInternals } from './store.ts';

export function internalsOf(store: Store): StoreInternals {
  const internals = storeInternals.get(store);
  if (!internals) throw new StoreError('store.invalid_input', 'Not a store opened by openStore().');
  return internals;
}

export { loadMigrations, runMigrations } from './migrate.ts';
export * as schema from './schema/index.ts';

/**
 * Values read from the database and believed for a while, by key: what a run checks before its
 * model call (does the agent have memories, which knowledge bases it searches) without a
 * database round each time.
 *
 * - Fresh for `freshMs(value)`. For one more such period a value is still answered at once
 *   while a single read refreshes it: runs never queue behind the database because a value just
 *   expired (a burst of runs 5 s after the last read otherwise all waited for that read, each
 *   on its own connection, before any of them called its model).
 * - Older, or never read: read once, however many callers ask meanwhile.
 * - `set` records what this process changed itself (it wins over a read under way).
 *
 * Other server processes' changes are therefore seen within two periods, as with the agent
 * cache (runs/agent-cache.ts).
 */
import { createInFlight } from './in-flight.ts';

export interface FreshCache<V> {
  /** The value, at once when it is fresh enough, else from `load()` (one read per key at a time). */
  get(key: string, load: () => Promise<V>): V | Promise<V>;
  /** A value this process knows to be current (it wrote it). */
  set(key: string, value: V): void;
}

interface Entry<V> {
  held?: { value: V; readAt: number };
  /** Bumped by set(): a read begun before it must not overwrite its value. */
  version: number;
}

export function createFreshCache<V>(options: {
  freshMs: (value: V) => number;
  maxEntries?: number;
  now?: () => number;
}): FreshCache<V> {
  const now = options.now ?? (() => performance.now());
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry<V>>();
  const reads = createInFlight<V>();

  const entryOf = (key: string) => {
    let entry = entries.get(key);
    if (!entry) {
      if (entries.size >= maxEntries) entries.clear();
      entry = { version: 0 };
      entries.set(key, entry);
    }
    return entry;
  };

  const read = (key: string, entry: Entry<V>, load: () => Promise<V>) =>
    reads.join(key, async () => {
      const { version } = entry;
      const readAt = now();
      const value = await load();
      if (entries.get(key) === entry && entry.version === version) entry.held = { value, readAt };
      return value;
    });

  return {
    get(key, load) {
      const entry = entryOf(key);
      if (entry.held) {
        const { value, readAt } = entry.held;
        const age = now() - readAt;
        const fresh = options.freshMs(value);
        if (age < fresh) return value;
        if (age < 2 * fresh) {
          // A failed refresh keeps the value until it is too old to answer with.
          read(key, entry, load).catch(() => {});
          return value;
        }
      }
      return read(key, entry, load);
    },
    set(key, value) {
      const entry = entryOf(key);
      entry.version++;
      entry.held = { value, readAt: now() };
    },
  };
}

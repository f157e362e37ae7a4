/**
 * Work under way, by id: asking for an id already under way joins it instead of starting it
 * again, and the id is free again once it settles. The caches use it so that however many
 * requests need the same database read at once, it is made once.
 */
export function createInFlight<T>() {
  const running = new Map<string, Promise<T>>();
  return {
    /** The work under way for `id`, if any. */
    get: (id: string): Promise<T> | undefined => running.get(id),
    /** The work under way for `id`, or `start()` begun now. */
    join(id: string, start: () => Promise<T>): Promise<T> {
      let work = running.get(id);
      if (!work) {
        work = start().finally(() => running.delete(id));
        running.set(id, work);
      }
      return work;
    },
  };
}

import { createInFlight } from '../caches/in-flight.ts';

/**
 * What a run needs to know of its agent before it can call the model (the agent row, the
 * version to run, its validated definition, the workspace's trust page), kept for a few
 * seconds per workspace: a chat's every turn would otherwise wait for a database round before
 * its model call.
 *
 * - Fresh for `ttlMs`. For one more `ttlMs` an entry is still served at once while a single
 *   read refreshes it in the background: runs never queue behind the database because an entry
 *   just expired (with 50 streams open on PGlite, that queue was a 250 ms p95 TTFT).
 * - A missing entry is read once, however many runs ask for it meanwhile.
 * - Any change to a workspace through this process forgets its entries at once (the app's
 *   onSend hook): the very next run reads again. A read that was under way during the change
 *   is neither kept nor shared with runs that start after it (generations). Other server
 *   processes serve a change within 2 × `ttlMs`.
 */
export function createAgentCache<T>(options: { ttlMs?: number; now?: () => number } = {}) {
  const ttlMs = options.ttlMs ?? 5_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Map<string, { value: T; until: number }>>();
  const generations = new Map<string, number>();
  /** Reads under way, by workspace, generation and key. */
  const reads = createInFlight<T>();

  const generationOf = (workspaceId: string) => generations.get(workspaceId) ?? 0;
  const readId = (workspaceId: string, key: string) =>
    `${workspaceId}\u0000${generationOf(workspaceId)}\u0000${key}`;

  function keep(workspaceId: string, key: string, value: T, generation: number) {
    if (generationOf(workspaceId) !== generation) return;
    let workspace = entries.get(workspaceId);
    if (!workspace) {
      if (entries.size > 10_000) entries.clear();
      workspace = new Map();
      entries.set(workspaceId, workspace);
    }
    if (workspace.size > 1_000) workspace.clear();
    workspace.set(key, { value, until: now() + ttlMs });
  }

  /** The read under way for this key in the current generation, or a new one. */
  function read(workspaceId: string, key: string, load: () => Promise<T>): Promise<T> {
    const generation = generationOf(workspaceId);
    return reads.join(readId(workspaceId, key), async () => {
      const value = await load();
      keep(workspaceId, key, value, generation);
      return value;
    });
  }

  return {
    /**
     * The entry for `key`, from the cache or from `load()`. `loaded` is true for the one
     * caller whose call read it (the others got the entry or shared that read).
     */
    async get(
      workspaceId: string,
      key: string,
      load: () => Promise<T>,
    ): Promise<{ value: T; loaded: boolean }> {
      const entry = entries.get(workspaceId)?.get(key);
      const t = now();
      if (entry && t < entry.until) return { value: entry.value, loaded: false };
      if (entry && t < entry.until + ttlMs) {
        // Refreshed in the background; a read that fails (the agent is gone, archived, broken)
        // drops the entry, so the next run reads it again and gets the error.
        read(workspaceId, key, load).catch(() => {
          if (entries.get(workspaceId)?.get(key) === entry) entries.get(workspaceId)?.delete(key);
        });
        return { value: entry.value, loaded: false };
      }
      const shared = reads.get(readId(workspaceId, key));
      if (shared) return { value: await shared, loaded: false };
      return { value: await read(workspaceId, key, load), loaded: true };
    },
    forget(workspaceId: string) {
      entries.delete(workspaceId);
      generations.set(workspaceId, generationOf(workspaceId) + 1);
    },
  };
}

export type AgentCache<T> = ReturnType<typeof createAgentCache<T>>;

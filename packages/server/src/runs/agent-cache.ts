/**
 * What a run needs to know of its agent before it can call the model (the agent row, the
 * version to run, its validated definition, the workspace's trust page), kept for a few
 * seconds per workspace: a chat's every turn would otherwise wait for a database round before
 * its model call. Any change to a workspace through this process forgets the workspace's
 * entries at once (the app's onSend hook); other server processes serve a change within
 * `ttlMs`, as with tokens and model keys. A read that was under way while the workspace changed
 * is not kept (generations), so a forget is never undone by a slow read finishing after it.
 */
export function createAgentCache<T>(options: { ttlMs?: number; now?: () => number } = {}) {
  const ttlMs = options.ttlMs ?? 5_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Map<string, { value: T; until: number }>>();
  const generations = new Map<string, number>();
  return {
    get(workspaceId: string, key: string): T | undefined {
      const entry = entries.get(workspaceId)?.get(key);
      if (!entry) return undefined;
      if (entry.until > now()) return entry.value;
      entries.get(workspaceId)?.delete(key);
      return undefined;
    },
    /** The workspace's generation before a read: set() keeps the value only if it is unchanged. */
    generation(workspaceId: string): number {
      return generations.get(workspaceId) ?? 0;
    },
    set(workspaceId: string, key: string, value: T, generation: number) {
      if ((generations.get(workspaceId) ?? 0) !== generation) return;
      let workspace = entries.get(workspaceId);
      if (!workspace) {
        if (entries.size > 10_000) entries.clear();
        workspace = new Map();
        entries.set(workspaceId, workspace);
      }
      if (workspace.size > 1_000) workspace.clear();
      workspace.set(key, { value, until: now() + ttlMs });
    },
    forget(workspaceId: string) {
      entries.delete(workspaceId);
      generations.set(workspaceId, (generations.get(workspaceId) ?? 0) + 1);
    },
  };
}

export type AgentCache<T> = ReturnType<typeof createAgentCache<T>>;

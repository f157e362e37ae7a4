/**
 * Decrypted model keys, kept for a short while per workspace so that every run does not
 * decrypt (and audit) the same key again: the first run of a minute reads it from the vault.
 * Writing or deleting a secret clears the workspace's entries in this process at once; other
 * server processes pick up a changed key within `ttlMs`. Values live only in this process's
 * memory, as they do during a run anyway.
 */
export function createSecretCache(options: { ttlMs?: number; now?: () => number } = {}) {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Map<string, { value: string; until: number }>>();
  return {
    get(workspaceId: string, name: string): string | undefined {
      const entry = entries.get(workspaceId)?.get(name);
      if (!entry) return undefined;
      if (entry.until > now()) return entry.value;
      entries.get(workspaceId)?.delete(name);
      return undefined;
    },
    set(workspaceId: string, name: string, value: string) {
      let workspace = entries.get(workspaceId);
      if (!workspace) {
        if (entries.size > 10_000) entries.clear();
        workspace = new Map();
        entries.set(workspaceId, workspace);
      }
      workspace.set(name, { value, until: now() + ttlMs });
    },
    forget(workspaceId: string) {
      entries.delete(workspaceId);
    },
  };
}

export type SecretCache = ReturnType<typeof createSecretCache>;

import type { AgentDefinition } from '@parley/core';
import type { ScopeOptions, Store } from '@parley/store';
import type { Detector } from '../detect/detector.ts';
import { embeddingSecret } from './embedder.ts';
import { modelSecrets } from './models.ts';
import { createSecretCache } from './secret-cache.ts';

/**
 * The model keys runs use: decrypted once (audited, with the caller) and kept 60 s, dropped
 * when the workspace's secrets change. Runs that miss the cache at the same moment (a burst
 * after a quiet minute) share one read: each would otherwise decrypt the same key and update
 * its row, one after another behind the row's lock.
 */
export function createModelKeys(options: { store: Store; detector: Detector }) {
  const cache = createSecretCache();
  /** Reads under way, by workspace and the names they read. */
  const loading = new Map<string, Promise<[string, string][]>>();
  /** Bumped when a workspace's secrets change: a read started before is not cached. */
  const generations = new Map<string, number>();

  const reveal = (workspaceId: string, names: string[], scope: ScopeOptions) => {
    const key = `${workspaceId}\u0000${names.join('\u0000')}`;
    const under = loading.get(key);
    if (under) return under;
    const generation = generations.get(workspaceId) ?? 0;
    const read = options.store
      .withWorkspace(
        workspaceId,
        async (ws) => {
          const values: [string, string][] = [];
          for (const name of names)
            if (await ws.secrets.get(name))
              values.push([name, await ws.secrets.reveal(name, { purpose: 'model' })]);
          return values;
        },
        scope,
      )
      .then((values) => {
        if ((generations.get(workspaceId) ?? 0) === generation)
          for (const [name, value] of values) cache.set(workspaceId, name, value);
        // The security detector counts decryptions: one signal per key read.
        for (let n = 0; n < values.length; n++)
          options.detector.secretDecrypted(workspaceId, scope.ip);
        return values;
      })
      .finally(() => loading.delete(key));
    loading.set(key, read);
    return read;
  };

  return {
    /** The keys an agent's models name (from the cache, else decrypted); absent ones are left out. */
    async forAgent(
      workspaceId: string,
      definition: AgentDefinition,
      scope: ScopeOptions,
    ): Promise<Map<string, string>> {
      // The embedding model's key too (often the same one); absent, the run recalls by words.
      const embedding = embeddingSecret(definition);
      return this.forSecrets(
        workspaceId,
        [...modelSecrets(definition), ...(embedding ? [embedding] : [])],
        scope,
      );
    },
    /** The keys of these secrets (from the cache, else decrypted); absent ones are left out. */
    async forSecrets(
      workspaceId: string,
      names: string[],
      scope: ScopeOptions,
    ): Promise<Map<string, string>> {
      const keys = new Map<string, string>();
      const missing: string[] = [];
      for (const name of new Set(names)) {
        const cached = cache.get(workspaceId, name);
        if (cached !== undefined) keys.set(name, cached);
        else missing.push(name);
      }
      if (missing.length === 0) return keys;
      for (const [name, value] of await reveal(workspaceId, missing.sort(), scope))
        keys.set(name, value);
      return keys;
    },
    forget(workspaceId: string) {
      cache.forget(workspaceId);
      generations.set(workspaceId, (generations.get(workspaceId) ?? 0) + 1);
      for (const key of loading.keys())
        if (key.startsWith(`${workspaceId}\u0000`)) loading.delete(key);
    },
  };
}

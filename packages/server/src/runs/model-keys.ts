import type { AgentDefinition } from '@parley/core';
import type { ScopeOptions, Store } from '@parley/store';
import type { Detector } from '../detect/detector.ts';
import { embeddingSecret } from './embedder.ts';
import { modelSecrets } from './models.ts';
import { createSecretCache } from './secret-cache.ts';

/**
 * The model keys runs use: decrypted once (audited, with the caller) and kept 60 s, dropped
 * when the workspace's secrets change.
 */
export function createModelKeys(options: { store: Store; detector: Detector }) {
  const cache = createSecretCache();
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
      const revealed = await options.store.withWorkspace(
        workspaceId,
        async (ws) => {
          const values: [string, string][] = [];
          for (const name of missing)
            if (await ws.secrets.get(name))
              values.push([name, await ws.secrets.reveal(name, { purpose: 'model' })]);
          return values;
        },
        scope,
      );
      for (const [name, value] of revealed) {
        cache.set(workspaceId, name, value);
        keys.set(name, value);
        options.detector.secretDecrypted(workspaceId, scope.ip);
      }
      return keys;
    },
    forget: (workspaceId: string) => cache.forget(workspaceId),
  };
}

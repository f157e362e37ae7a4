import type { AgentDefinition, EmbeddingModelRef, KnowledgeRetriever } from '@parley/core';
import type { KnowledgeBase, ScopeOptions, Store } from '@parley/store';
import { createFreshCache, type FreshCache } from '../caches/fresh-cache.ts';
import type { RunEmbedding } from '../runs/embedder.ts';
import { retrieveKnowledge } from './retrieve.ts';

/**
 * How long an agent's list of bases is believed (other instances may add one), and refreshed in
 * the background for as long again (caches/fresh-cache.ts).
 */
const FRESH_MS = 5_000;

/** Per store: workspace → (agent and bases named) → its bases. */
const known = new WeakMap<Store, Map<string, FreshCache<KnowledgeBase[]>>>();

function cacheOf(store: Store, workspaceId: string) {
  let workspaces = known.get(store);
  if (!workspaces) {
    workspaces = new Map();
    known.set(store, workspaces);
  }
  let agents = workspaces.get(workspaceId);
  if (!agents) {
    if (workspaces.size >= 10_000) workspaces.clear();
    agents = createFreshCache({ freshMs: () => FRESH_MS, maxEntries: 1_000 });
    workspaces.set(workspaceId, agents);
  }
  return agents;
}

/** A workspace's bases changed here: runs read them anew. */
export function forgetKnowledgeBases(store: Store, workspaceId: string): void {
  known.get(store)?.delete(workspaceId);
}

/**
 * The knowledge retriever of one run: the agent's own base and the bases its definition
 * names (`knowledge.bases`), searched with the run's embedding model. Undefined when the
 * agent retrieves nothing (`knowledge.limit: 0`); the retriever answers undefined (no event)
 * while the agent has no base.
 */
export function runKnowledge(input: {
  store: Store;
  workspaceId: string;
  agentId: string;
  definition: AgentDefinition;
  scope: ScopeOptions;
  embedding: RunEmbedding;
}): KnowledgeRetriever | undefined {
  const { store, workspaceId, agentId, definition } = input;
  const settings = definition.knowledge;
  if (settings.limit === 0) return undefined;
  return async (query) => {
    const key = `${agentId}\u0000${settings.bases.join('\u0000')}`;
    const bases = await cacheOf(store, workspaceId).get(key, () =>
      store.withWorkspace(
        workspaceId,
        (ws) => ws.knowledge.listBasesForAgent(agentId, settings.bases),
        input.scope,
      ),
    );
    if (bases.length === 0 || !query.trim()) return undefined;
    const found = await retrieveKnowledge({
      store,
      workspaceId,
      scope: input.scope,
      baseIds: bases.map((base) => base.id),
      query,
      limit: settings.limit,
      embeddings: await embeddingsOf(bases, input.embedding),
    });
    return { query, ...found };
  };
}

/**
 * What the query is embedded with for these bases: a base's own model (a shared base's) where
 * it names one, else the agent's; each model once.
 */
async function embeddingsOf(bases: KnowledgeBase[], agent: RunEmbedding): Promise<RunEmbedding[]> {
  const own = new Map<string, KnowledgeBase['embeddingModelRef']>();
  for (const base of bases)
    if (base.embeddingModelRef)
      own.set(JSON.stringify(base.embeddingModelRef), base.embeddingModelRef);
  const theirs = await Promise.all(
    [...own.values()].map((ref) =>
      agent.withModel && ref
        ? agent.withModel(ref as EmbeddingModelRef).catch((error: unknown) => ({
            note: `a shared base's embedding model is unavailable (${error instanceof Error ? error.message : String(error)})`,
          }))
        : { note: 'this run cannot embed with a knowledge base’s own model' },
    ),
  );
  return bases.some((base) => !base.embeddingModelRef) ? [agent, ...theirs] : theirs;
}

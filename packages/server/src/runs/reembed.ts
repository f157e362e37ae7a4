import { EmbeddingMismatchError, type Store } from '@parley/store';
import type { FastifyBaseLogger } from 'fastify';

/** How far an agent's re-embedding got (this process's job). */
export interface ReembedProgress {
  state: 'running' | 'done' | 'failed';
  /** Memories embedded with the new model so far. */
  done: number;
  modelId: string;
  error?: string;
}

const BATCH = 64;
const SYSTEM = { actor: { type: 'system' as const } };

/** Per store, per workspace and agent: the job of this process. */
const jobs = new WeakMap<Store, Map<string, ReembedProgress>>();

function jobsOf(store: Store) {
  let known = jobs.get(store);
  if (!known) {
    known = new Map();
    jobs.set(store, known);
  }
  return known;
}

const keyOf = (workspaceId: string, agentId: string) => `${workspaceId}\u0000${agentId}`;

/** The re-embedding of an agent's memories this process runs or ran, if any. */
export function reembedProgress(
  store: Store,
  workspaceId: string,
  agentId: string,
): ReembedProgress | undefined {
  return jobsOf(store).get(keyOf(workspaceId, agentId));
}

/**
 * Moves an agent's memories to another embedding model in the background: clears the old
 * vectors and fixes the new size in one transaction (so no search ever compares vectors of
 * two models), then embeds the memories left without one, a batch at a time. Recall uses
 * the words meanwhile and fuses the vectors back in as they come. One job per agent per
 * process; another instance asking for the same model finds nothing left to do.
 */
export function startReembed(
  store: Store,
  input: {
    workspaceId: string;
    agentId: string;
    modelId: string;
    embed: (texts: string[]) => Promise<number[][]>;
    log?: FastifyBaseLogger | undefined;
  },
): ReembedProgress {
  const { workspaceId, agentId, modelId, embed } = input;
  const known = jobsOf(store);
  const key = keyOf(workspaceId, agentId);
  const running = known.get(key);
  if (running?.state === 'running' && running.modelId === modelId) return running;
  const progress: ReembedProgress = { state: 'running', done: 0, modelId };
  known.set(key, progress);
  void (async () => {
    const [probe] = await embed(['dimensions']);
    await store.withWorkspace(
      workspaceId,
      (ws) => ws.memories.resetEmbeddings(agentId, { dimensions: probe!.length, model: modelId }),
      SYSTEM,
    );
    for (;;) {
      const batch = await store.withWorkspace(
        workspaceId,
        (ws) => ws.memories.listMissingEmbeddings(agentId, { limit: BATCH }),
        SYSTEM,
      );
      if (batch.length === 0) break;
      const vectors = await embed(batch.map((memory) => memory.content));
      await store.withWorkspace(
        workspaceId,
        async (ws) => {
          for (const [i, memory] of batch.entries())
            await ws.memories.setEmbedding(memory.id, vectors[i]!, { model: modelId });
        },
        SYSTEM,
      );
      progress.done += batch.length;
      input.log?.info({ agentId, modelId, done: progress.done }, 'memories re-embedded');
    }
    progress.state = 'done';
  })().catch((error: unknown) => {
    progress.state = 'failed';
    progress.error = error instanceof Error ? error.message : String(error);
    // Another model took over meanwhile (a newer deploy): its own job carries on.
    const level = error instanceof EmbeddingMismatchError ? 'info' : 'warn';
    input.log?.[level]({ err: error, agentId, modelId }, 're-embedding memories stopped');
  });
  return progress;
}
